#include "common/utf8.h"

#include <cstring>

namespace chatpipe {

namespace {

constexpr uint64_t kHighBits = 0x8080808080808080ULL;

// Returns the index of the first byte at or after `i` that is not ASCII, or `n`.
size_t SkipAscii(const unsigned char* p, size_t i, size_t n) {
  while (i + 32 <= n) {  // four words per test: a chat frame is a few hundred ASCII bytes
    uint64_t w[4];
    std::memcpy(w, p + i, 32);
    if ((w[0] | w[1] | w[2] | w[3]) & kHighBits) break;
    i += 32;
  }
  while (i + 8 <= n) {
    uint64_t word;
    std::memcpy(&word, p + i, 8);
    if (word & kHighBits) break;
    i += 8;
  }
  while (i < n && p[i] < 0x80) ++i;
  return i;
}

}  // namespace

bool Utf8Validator::Feed(std::string_view bytes) {
  if (failed_) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    if (need_ == 0) {
      i = SkipAscii(p, i, n);
      if (i == n) break;
      const unsigned char b = p[i++];
      if (b < 0xC2) {  // stray continuation byte, or C0/C1 (always overlong)
        failed_ = true;
      } else if (b < 0xE0) {
        need_ = 1;
      } else if (b < 0xF0) {
        need_ = 2;
        if (b == 0xE0) lo_ = 0xA0;  // below is an overlong 3-byte form
        if (b == 0xED) hi_ = 0x9F;  // above is a surrogate
      } else if (b < 0xF5) {
        need_ = 3;
        if (b == 0xF0) lo_ = 0x90;  // below is an overlong 4-byte form
        if (b == 0xF4) hi_ = 0x8F;  // above is past U+10FFFF
      } else {
        failed_ = true;
      }
    } else {
      const unsigned char b = p[i++];
      if (b < lo_ || b > hi_) {
        failed_ = true;
      } else {
        --need_;
        lo_ = 0x80;
        hi_ = 0xBF;
      }
    }
    if (failed_) return false;
  }
  return true;
}

bool IsValidUtf8(std::string_view bytes) {
  Utf8Validator v;
  return v.Feed(bytes) && v.Complete();
}

std::string ReplaceInvalidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const Utf8Char c = DecodeUtf8(s, i);
    if (c.valid()) out.append(s.substr(i, c.len));
    else out.append("\xEF\xBF\xBD");
    i += c.len;
  }
  return out;
}

}  // namespace chatpipe
