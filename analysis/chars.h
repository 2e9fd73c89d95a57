// Characters as the tagger sees them: a class (letter, digit, space, punctuation...) and, for letters,
// the lower-case base letter they fold to, so that "MIÉRDA", "mierda" and "mi\u0301erda" read alike.
//
// Everything below U+0180 is classified by a table built at compile time; ñ folds apart from n
// because "año" is not "ano" and "coño" is not "cono". Letters of other scripts are opaque word
// characters, kept unfolded; bytes that are not valid UTF-8 are opaque too. All of it is inline:
// the scanner calls it once per character. Nothing here owns memory.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/utf8.h"

namespace chatpipe::analysis {

enum Kind : uint8_t { kSpace, kPunct, kLetter, kDigit, kLeet, kApostrophe, kMark, kOpaque };
inline constexpr char kEnye = '\x01';  // the fold of ñ and Ñ; written back as "ñ"

struct CharInfo {
  Kind kind = kPunct;
  char fold = 0;  // lower-case base letter of a letter
  bool upper = false;
  bool clause = false;  // ends a clause: negation and boosters do not reach across it
};

// A byte of a word, as the masking and the starred words see one: an ASCII letter or digit, or any
// byte of a multi-byte character.
inline bool IsWordByte(char c) {
  return static_cast<unsigned char>(c) >= 0x80 || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

constexpr bool IsOneOf(char c, const char* set) {
  for (; *set; ++set)
    if (*set == c) return true;
  return false;
}

namespace chars_internal {

struct CharTable {
  CharInfo c[0x180];
};

// Base letters of U+0100..U+017F (Ā ā Ă ă ... ž ſ).
constexpr char kLatinA[] =
    "aaaaaa" "cccccccc" "dddd" "eeeeeeeeee" "gggggggg" "hhhh" "iiiiiiiiii" "ii" "jj" "kkk" "llllllllll"
    "nnnnnnnnn" "oooooo" "oo" "rrrrrr" "ssssssss" "tttttt" "uuuuuuuuuuuu" "ww" "yyy" "zzzzzz" "s";
static_assert(sizeof(kLatinA) == 0x80 + 1);

constexpr CharTable BuildCharTable() {
  CharTable t{};
  for (int c = 0; c < 0x80; ++c) {
    CharInfo& i = t.c[c];
    if (c >= 'a' && c <= 'z') i = {kLetter, char(c), false, false};
    else if (c >= 'A' && c <= 'Z') i = {kLetter, char(c - 'A' + 'a'), true, false};
    else if (c >= '0' && c <= '9') i = {kDigit, char(c), false, false};
    else if (c == '@' || c == '$') i = {kLeet, char(c), false, false};
    else if (c == '\'') i.kind = kApostrophe;
    else if (c <= ' ' || c == 0x7f) i.kind = kSpace;
    i.clause = c == '\n' || IsOneOf(char(c), ".,;:!?()");
  }
  t.c[0xA0].kind = kSpace;  // no-break space; the rest of U+0080..U+00BF is punctuation
  // U+00C0..U+00FF. '.' marks × and ÷; 'N' marks Ñ/ñ.
  const char* latin1 = "aaaaaaaceeeeiiiidNooooo.ouuuuyts" "aaaaaaaceeeeiiiidNooooo.ouuuuyty";
  for (int k = 0; k < 64; ++k) {
    const int cp = 0xC0 + k;
    const char f = latin1[k];
    if (f == '.') continue;
    t.c[cp] = {kLetter, f == 'N' ? kEnye : f, cp < 0xDF, false};
  }
  // U+0100..U+017F, Latin Extended-A: letters in upper/lower pairs.
  for (int k = 0; k < 0x80; ++k) {
    const int cp = 0x100 + k;
    bool upper;
    if (cp <= 0x137) upper = cp % 2 == 0;
    else if (cp <= 0x148) upper = cp != 0x138 && cp % 2 == 1;
    else if (cp <= 0x177) upper = cp != 0x149 && cp % 2 == 0;
    else upper = cp == 0x178 || (cp <= 0x17E && cp % 2 == 1);
    t.c[cp] = {kLetter, kLatinA[k], upper, false};
  }
  return t;
}

}  // namespace chars_internal

inline constexpr chars_internal::CharTable kChars = chars_internal::BuildCharTable();

// The class of an ASCII byte.
inline const CharInfo& AsciiInfo(unsigned char b) { return kChars.c[b]; }

inline CharInfo Classify(char32_t cp) {
  if (cp < 0x180) return kChars.c[cp];
  if (cp == 0x2019 || cp == 0x2018 || cp == 0x02BC) return {kApostrophe};
  if (cp >= 0x0300 && cp <= 0x036F) return {kMark};  // combining accents of decomposed text
  if ((cp >= 0x2000 && cp <= 0x200B) || cp == 0x202F || cp == 0x205F || cp == 0x3000) return {kSpace};
  if (cp == 0x2026) return {kPunct, 0, false, true};  // …
  const bool symbol = (cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) ||
                      (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF || (cp >= 0x1F000 && cp <= 0x1FAFF) ||
                      cp >= 0xE0000;
  return {symbol ? kPunct : kOpaque};  // other scripts' letters are word characters, unfolded
}

struct Char {
  char32_t cp;  // the code point, or the byte itself when it is not valid UTF-8
  uint32_t len;
  CharInfo info;
};

// The character of s starting at s[i], a byte of 0x80 or more, classified. Out of line, so that
// Decode stays small enough to inline into the scanner's loop.
Char DecodeMultibyte(std::string_view s, size_t i);

// The character of s starting at s[i], classified.
inline Char Decode(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  return b < 0x80 ? Char{b, 1, kChars.c[b]} : DecodeMultibyte(s, i);
}

// Writes the folded form of c, the character at src (lower case, no accents), at out; returns the
// end of what it wrote. Never longer than c itself.
inline char* Fold(const Char& c, const char* src, char* out) {
  switch (c.info.kind) {
    case kLetter:
      if (c.info.fold != kEnye) {
        *out++ = c.info.fold;
      } else {
        *out++ = '\xC3';
        *out++ = '\xB1';
      }
      break;
    case kDigit:
    case kLeet:
      *out++ = c.info.fold;
      break;
    case kOpaque:
      out = std::copy(src, src + c.len, out);
      break;
    default:
      break;
  }
  return out;
}

// Folds a word from a data file the same way the scanner folds text.
std::string FoldWord(std::string_view w);

}  // namespace chatpipe::analysis
