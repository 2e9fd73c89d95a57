#include "analysis/language.h"

#include <gtest/gtest.h>

#include "analysis/test_lexicon.h"

namespace chatpipe::analysis {
namespace {

int Detect(std::string_view text, bool* ambiguous) {
  Scratch s;
  const ScanStats st = testing::Tokenise(text, &s, false);
  return DetectLanguage(testing::Lists().lexicon, s.tokens, st.hints, ambiguous);
}

TEST(Language, StopWordsVote) {
  bool ambiguous = true;
  EXPECT_EQ(Detect("what time is the meeting tomorrow", &ambiguous), kEn);
  EXPECT_FALSE(ambiguous);
  EXPECT_EQ(Detect("no me gusta nada", &ambiguous), kEs);
  EXPECT_EQ(Detect("não gostei do filme", &ambiguous), kPt);
}

TEST(Language, PortugueseWordsSharedWithSpanishDoNotTipIt) {
  // "te" and "se" are Spanish votes too; the Portuguese-only words must outweigh them.
  bool ambiguous = true;
  EXPECT_EQ(Detect("vou te matar se contar pra alguém", &ambiguous), kPt);
  EXPECT_EQ(Detect("bom dia a todos", &ambiguous), kPt);
  EXPECT_EQ(Detect("sei onde tu mora, fica esperto", &ambiguous), kPt);
  EXPECT_EQ(Detect("qué lindo día para ir a la playa", &ambiguous), kEs);  // "dia" votes for no one
  EXPECT_EQ(Detect("mi perro se comió la tarea", &ambiguous), kEs);
}

TEST(Language, LettersOfOneLanguageCount) {
  bool ambiguous = true;
  EXPECT_EQ(Detect("el niño", &ambiguous), kEs);
  EXPECT_EQ(Detect("ação", &ambiguous), kPt);
  double hints[kLangs] = {};
  LanguageHint(0xF1, hints);  // ñ
  LanguageHint(0xE7, hints);  // ç
  LanguageHint('a', hints);
  EXPECT_EQ(hints[kEs], 1.5);
  EXPECT_EQ(hints[kPt], 1.5);
  EXPECT_EQ(hints[kEn], 0);
}

TEST(Language, NoEvidenceIsEnglishAndTiesAreAmbiguous) {
  bool ambiguous = false;
  EXPECT_EQ(Detect("12345 ???", &ambiguous), kEn);
  EXPECT_TRUE(ambiguous);  // every language scored 0
  EXPECT_EQ(Detect("", &ambiguous), kEn);
}

}  // namespace
}  // namespace chatpipe::analysis
