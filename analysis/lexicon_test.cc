#include "analysis/lexicon.h"

#include <gtest/gtest.h>

#include "analysis/tagger.h"

namespace chatpipe::analysis {
namespace {

class LexiconTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    LexiconReader reader(DefaultTagDataDir());
    lexicon_ = new Lexicon;
    ASSERT_TRUE(lexicon_->LoadWords(reader).ok());
    ASSERT_TRUE(lexicon_->LoadAllowList(reader).ok());
  }
  static void TearDownTestSuite() { delete lexicon_; }
  static int Lookup(std::string_view w, bool* exact) { return lexicon_->LookupWord(w, exact); }
  static Lexicon* lexicon_;
};

Lexicon* LexiconTest::lexicon_ = nullptr;

TEST_F(LexiconTest, WordsCarryTheirMeaningPerLanguage) {
  const int bueno = lexicon_->Find("bueno");
  ASSERT_GE(bueno, 0);
  EXPECT_TRUE(lexicon_->info(bueno).has_valence >> kEs & 1);
  EXPECT_GT(lexicon_->info(bueno).valence[kEs], 0);
  const int no = lexicon_->Find("no");
  ASSERT_GE(no, 0);
  EXPECT_TRUE(lexicon_->info(no).negation >> kEs & 1);
  const int porra = lexicon_->Find("porra");
  ASSERT_GE(porra, 0);
  EXPECT_TRUE(lexicon_->info(porra).allow >> kEs & 1);  // a betting pool in Spanish
  EXPECT_FALSE(lexicon_->info(porra).allow >> kPt & 1);
}

TEST_F(LexiconTest, LookupCutsStretchedLettersAndReadsLaughter) {
  bool exact = false;
  const int good = lexicon_->Find("good");
  EXPECT_EQ(Lookup("good", &exact), good);
  EXPECT_TRUE(exact);
  EXPECT_EQ(Lookup("goooood", &exact), good);
  EXPECT_FALSE(exact);
  EXPECT_EQ(Lookup("jajajaja", &exact), lexicon_->Find("haha"));
  EXPECT_EQ(Lookup("qwzx", &exact), -1);
}

TEST_F(LexiconTest, EmojiAndEmoticons) {
  float v = 0;
  EXPECT_TRUE(lexicon_->EmojiValence(0x1F621, &v));  // 😡
  EXPECT_LT(v, 0);
  EXPECT_FALSE(lexicon_->EmojiValence(0x1F9FF, &v));
  EXPECT_TRUE(lexicon_->MayStartEmoticon(':'));
  RunCache runs;
  EXPECT_EQ(lexicon_->MatchEmoticon("ok :)))", 3, &v, &runs), 4u);  // the repeated ')' is absorbed
  EXPECT_GT(v, 0);
  runs = {};
  EXPECT_EQ(lexicon_->MatchEmoticon("http://x", 4, &v, &runs), 0u);  // glued to what follows: no face
}

// Faces starting inside one run share its end, found once: every '^' of "^^^^a" is glued to the 'a'.
TEST_F(LexiconTest, EmoticonsInsideOneRun) {
  float v = 0;
  RunCache runs;
  const std::string text = "^^^^a ^^^^ ^_^^^ x";
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(lexicon_->MatchEmoticon(text, i, &v, &runs), 0u) << i;
  EXPECT_EQ(lexicon_->MatchEmoticon(text, 6, &v, &runs), 4u);
  EXPECT_EQ(lexicon_->MatchEmoticon(text, 11, &v, &runs), 5u);  // "^_^" and the '^' after it
  EXPECT_EQ(lexicon_->MatchEmoticon(text, 13, &v, &runs), 3u);  // inside the cached run of '^'
}

TEST_F(LexiconTest, IdiomsByFirstWord) {
  const auto [first, last] = lexicon_->PhrasesFrom(lexicon_->Find("de"));
  ASSERT_NE(first, last);
  for (auto it = first; it != last; ++it) EXPECT_EQ(it->words[0], lexicon_->Find("de"));
}

}  // namespace
}  // namespace chatpipe::analysis
