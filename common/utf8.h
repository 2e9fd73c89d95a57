// UTF-8: validation for WebSocket text frames (RFC 6455 requires it) and anything else that must hold
// well-formed text, and decoding one code point at a time for scanners over text (analysis/).
//
// Well-formed means RFC 3629: no overlong forms, no UTF-16 surrogates (U+D800..U+DFFF), nothing above
// U+10FFFF. Pure ASCII, the common case in chat, is checked 32 and then eight bytes at a time.
// Utf8Validator carries state across calls so a fragmented message can be checked piece by piece and
// rejected as soon as a fragment goes wrong, without waiting for the rest. It owns no memory.
#pragma once

#include <cstdint>
#include <string>
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

// One character of a text: a code point and the bytes it took. A byte that does not start a well-formed
// character (by the rules above) is a character of its own: `cp` is the byte itself and `len` 1, so
// a scanner carries it through and always advances.
struct Utf8Char {
  char32_t cp;
  uint32_t len;
  bool valid() const { return len > 1 || cp < 0x80; }
};

namespace utf8_internal {
inline bool IsCont(unsigned char b) { return (b & 0xC0) == 0x80; }
}  // namespace utf8_internal

// The character that starts at s[i] (i < s.size()), for s starting with a byte of 0x80 or more.
inline Utf8Char DecodeUtf8Multibyte(std::string_view s, size_t i) {
  using utf8_internal::IsCont;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + i;
  const size_t left = s.size() - i;
  const unsigned b0 = p[0];
  char32_t cp = 0;
  uint32_t len = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF && left >= 2 && IsCont(p[1])) {
    cp = (b0 & 0x1F) << 6 | (p[1] & 0x3F);
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF && left >= 3 && IsCont(p[1]) && IsCont(p[2])) {
    cp = (b0 & 0x0F) << 12 | (p[1] & 0x3F) << 6 | (p[2] & 0x3F);
    len = (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) ? 3 : 0;
  } else if (b0 >= 0xF0 && b0 <= 0xF4 && left >= 4 && IsCont(p[1]) && IsCont(p[2]) && IsCont(p[3])) {
    cp = (b0 & 0x07) << 18 | (p[1] & 0x3F) << 12 | (p[2] & 0x3F) << 6 | (p[3] & 0x3F);
    len = (cp >= 0x10000 && cp <= 0x10FFFF) ? 4 : 0;
  }
  if (len == 0) return {b0, 1};
  return {cp, len};
}

// The character that starts at s[i] (i < s.size()). Inline: scanners call it once per character.
inline Utf8Char DecodeUtf8(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  return b < 0x80 ? Utf8Char{b, 1} : DecodeUtf8Multibyte(s, i);
}

// s with every byte that is not part of a well-formed character replaced by U+FFFD.
std::string ReplaceInvalidUtf8(std::string_view s);

}  // namespace chatpipe
