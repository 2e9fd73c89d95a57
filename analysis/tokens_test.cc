#include "analysis/tokens.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "analysis/test_lexicon.h"

namespace chatpipe::analysis {
namespace {

using testing::Tokenise;

std::vector<std::string> Folded(const Scratch& s) {
  std::vector<std::string> out;
  for (const Token& t : s.tokens) out.emplace_back(t.is_emoji ? "<emoji>" : std::string(s.Folded(t)));
  return out;
}

TEST(Tokens, WordsAreFoldedAndEmojiAreTokensOfTheirOwn) {
  Scratch s;
  Tokenise("¡Qué BUENO! 😂 don't", &s, false);
  EXPECT_EQ(Folded(s), (std::vector<std::string>{"que", "bueno", "<emoji>", "dont"}));
  EXPECT_TRUE(s.tokens[1].caps);
  EXPECT_FALSE(s.tokens[0].caps);
  EXPECT_GT(s.tokens[2].emoji, 0);
  EXPECT_EQ(s.tokens[1].word, testing::Lists().lexicon.Find("bueno"));
  EXPECT_TRUE(s.tokens[1].exact);
}

TEST(Tokens, ClausesAndStats) {
  Scratch s;
  const ScanStats st = Tokenise("¿no, está bien!!", &s, false);
  ASSERT_EQ(s.tokens.size(), 3u);
  EXPECT_TRUE(s.tokens[1].clause_start);  // after the comma
  EXPECT_FALSE(s.tokens[2].clause_start);
  EXPECT_EQ(st.exclaims, 2);
  EXPECT_TRUE(st.has_lower);
  EXPECT_EQ(st.hints[kEs], 1.5);  // ¿
  EXPECT_EQ(st.hints[kPt], 0);
}

TEST(Tokens, AQuestionMarkMarksItsWholeSentence) {
  Scratch s;
  Tokenise("ok. che, ¿vienes hoy? genial\nsi", &s, false);
  ASSERT_EQ(s.tokens.size(), 6u);
  EXPECT_FALSE(s.tokens[0].question);  // "ok", its sentence ended by '.'
  EXPECT_TRUE(s.tokens[1].question);   // "che": the comma ends a clause, not the sentence
  EXPECT_TRUE(s.tokens[2].question);
  EXPECT_TRUE(s.tokens[3].question);
  EXPECT_FALSE(s.tokens[4].question);  // "genial", after the '?'
  EXPECT_FALSE(s.tokens[5].question);
  s.tokens.clear();
  Tokenise("good video youtube.com/watch?v=1", &s, false);
  for (const Token& t : s.tokens) EXPECT_FALSE(t.question) << s.Folded(t);  // a link's '?'
}

TEST(Tokens, ByteOffsetsCoverTheWordsOnly) {
  Scratch s;
  const std::string text = "  mi\xCC\x81" "erda \xFF ok";
  Tokenise(text, &s, false);
  ASSERT_EQ(s.tokens.size(), 3u);
  EXPECT_EQ(text.substr(s.tokens[0].begin, s.tokens[0].end - s.tokens[0].begin), "mi\xCC\x81" "erda");
  EXPECT_EQ(s.Folded(s.tokens[0]), "mierda");
  EXPECT_EQ(s.Folded(s.tokens[1]), "\xFF");  // an opaque byte is a word character
}

}  // namespace
}  // namespace chatpipe::analysis
