// Language identification among Spanish, Portuguese and English: stop-word votes, plus letters and
// marks only one language uses (ñ ¿ ¡ for Spanish; ã õ ç ê ô â à for Portuguese), plus words only
// one language's sentiment lexicon has. Ties go to Spanish, then Portuguese; no evidence at all
// reads as English.
#pragma once

#include <cstdint>
#include <vector>

namespace chatpipe::analysis {

inline constexpr int kLangs = 3;
enum Lang : int { kEn, kEs, kPt };
inline constexpr const char* kLangCodes[kLangs] = {"en", "es", "pt"};
inline constexpr uint8_t kEveryLanguage = (1 << kLangs) - 1;  // one bit per language

class Lexicon;
struct Token;

// Adds the evidence a non-ASCII letter or mark gives (cp is its code point) to hints.
inline void LanguageHint(char32_t cp, double hints[kLangs]) {
  switch (cp) {
    case 0xF1: case 0xD1: case 0xBF: case 0xA1:  // ñ Ñ ¿ ¡
      hints[kEs] += 1.5;
      break;
    case 0xE3: case 0xF5: case 0xE7: case 0xC3: case 0xD5: case 0xC7:  // ã õ ç Ã Õ Ç
    case 0xEA: case 0xF4: case 0xE2: case 0xE0:                        // ê ô â à
      hints[kPt] += 1.5;
      break;
    default:
      break;
  }
}

// The language of a message's tokens given the letter hints; *ambiguous when another language scored
// as high.
int DetectLanguage(const Lexicon& lexicon, const std::vector<Token>& tokens, const double hints[kLangs],
                   bool* ambiguous);

}  // namespace chatpipe::analysis
