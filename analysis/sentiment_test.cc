#include "analysis/sentiment.h"

#include <gtest/gtest.h>

#include "analysis/test_lexicon.h"

namespace chatpipe::analysis {
namespace {

double Score(std::string_view text, int lang, bool ambiguous = false) {
  Scratch s;
  const ScanStats st = testing::Tokenise(text, &s);
  return Sentiment(testing::Lists().lexicon, &s, st, lang, ambiguous);
}

TEST(Sentiment, ValenceNegationAndBoosters) {
  EXPECT_GT(Score("good", kEn), kNeutralBand);
  EXPECT_LT(Score("not good", kEn), -kNeutralBand);
  EXPECT_GT(Score("very good", kEn), Score("good", kEn));
  EXPECT_GT(Score("no está mal", kEs), kNeutralBand);
  EXPECT_EQ(Score("the meeting is at 5", kEn), 0);
}

TEST(Sentiment, ContrastIdiomsAndEmphasis) {
  EXPECT_LT(Score("the food was great but the service was terrible", kEn), -kNeutralBand);
  EXPECT_GT(Score("esta canción está de puta madre", kEs), kNeutralBand);
  EXPECT_GT(Score("good!!!", kEn), Score("good", kEn));
  EXPECT_GT(Score("this is GOOD", kEn), Score("this is good", kEn));
  EXPECT_GT(Score("😂", kEn), kNeutralBand);
}

TEST(Sentiment, ALanguageGuessMayBorrowValence) {
  // "bueno" has a valence in Spanish only: read as English it counts only when English is a guess.
  EXPECT_EQ(Score("bueno", kEn, false), 0);
  EXPECT_GT(Score("bueno", kEn, true), kNeutralBand);
}

TEST(Sentiment, ScoreStaysInRange) {
  const double s = Score("AMAZING AMAZING AMAZING love love love best best!!!!", kEn);
  EXPECT_GT(s, 0.9);
  EXPECT_LE(s, 1.0);
}

}  // namespace
}  // namespace chatpipe::analysis
