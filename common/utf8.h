// UTF-8 validation for WebSocket text frames (RFC 6455 requires it) and anything else that must hold
// well-formed text.
//
// Well-formed means RFC 3629: no overlong forms, no UTF-16 surrogates (U+D800..U+DFFF), nothing above
// U+10FFFF. Pure ASCII, the common case in chat, is checked 32 and then eight bytes at a time.
// Utf8Validator carries state across calls so a fragmented message can be checked piece by piece and
// rejected as soon as a fragment goes wrong, without waiting for the rest. It owns no memory.
#pragma once

#include <cstdint>
#include <string_view>

namespace chatpipe {

class Utf8Validator {
 public:
  // Checks the next bytes of the stream. Returns false once any byte so far is invalid (sticky until
  // Reset). A character split across calls is fine.
  bool Feed(std::string_view bytes);
  // True when every byte so far was valid and the stream does not end inside a character.
  bool Complete() const { return !failed_ && need_ == 0; }
  void Reset() { *this = Utf8Validator(); }

 private:
  uint8_t need_ = 0;  // continuation bytes still owed by the current character
  uint8_t lo_ = 0x80;  // allowed range of the next continuation byte; narrower right after
  uint8_t hi_ = 0xBF;  // E0, ED, F0 and F4, which is how overlongs, surrogates and > U+10FFFF die
  bool failed_ = false;
};

bool IsValidUtf8(std::string_view bytes);

}  // namespace chatpipe
