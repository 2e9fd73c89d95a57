// Word normalisation over folded words (see chars.h): leetspeak undone ("m1erd@" reads "mierda"),
// stretched letters squeezed ("fuuuck" is "fuck" with runs {1,3,1,1}) or cut ("buenooo" to "bueno"),
// and laughter in its many spellings ("jajaja", "hahah", "kkkk", "rsrs"). Pure functions; the
// caller owns every buffer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace chatpipe::analysis {

inline constexpr size_t kMaxBadLength = 48;  // no bad word is longer, even stretched

namespace normalize_internal {
constexpr std::array<char, 128> BuildLeet() {
  std::array<char, 128> m{};
  for (int c = 0; c < 128; ++c) m[c] = char(c);
  m['0'] = 'o', m['1'] = 'i', m['3'] = 'e', m['4'] = 'a', m['5'] = 's', m['7'] = 't';
  m['@'] = 'a', m['$'] = 's', m['!'] = 'i';
  return m;
}
inline constexpr std::array<char, 128> kUnleet = BuildLeet();
}  // namespace normalize_internal

// The letter a leetspeak character stands for ('4' is 'a', '$' is 's'); '1' is 'i' unless one_is_l.
inline char Unleet(char c, bool one_is_l) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x80) return c;
  return (one_is_l && c == '1') ? 'l' : normalize_internal::kUnleet[u];
}

// A candidate bad word with leetspeak undone and each run of one character kept once, with its
// length: "fuuuck" is "fuck" with runs {1,3,1,1}, "a$$" is "as" with runs {1,2}.
struct Squeezed {
  char text[kMaxBadLength];
  uint8_t runs[kMaxBadLength];
  size_t size = 0;
  std::string_view view() const { return {text, size}; }
  // Adds one (unleeted) character; false, adding nothing, when it would make too many runs.
  bool Push(char c) {
    if (size > 0 && text[size - 1] == c) {
      if (runs[size - 1] < 255) ++runs[size - 1];
      return true;
    }
    if (size == kMaxBadLength) return false;
    text[size] = c;
    runs[size++] = 1;
    return true;
  }
};

// False when the word cannot be a bad one: too long, or no ASCII letter at all ("2024", "$$$").
bool Squeeze(std::string_view word, bool one_is_l, Squeezed* out);

// Whether some character of w repeats right after itself.
bool HasRun(std::string_view w);

// w with every run of one character cut to at most `keep` ("buenooo", 1: "bueno"), written to buf
// (at least w.size() bytes).
std::string_view CutRuns(std::string_view w, size_t keep, char* buf);

// Laughter in its many spellings: "jajaja", "hahah", "jeje", "kkkk", "rsrs".
bool IsLaugh(std::string_view w);

}  // namespace chatpipe::analysis
