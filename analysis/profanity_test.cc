#include "analysis/profanity.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "analysis/test_lexicon.h"

namespace chatpipe::analysis {
namespace {

const Profanity& Lists() { return testing::Lists().profanity; }

std::string Base(std::string_view folded) {
  const Profanity::Match m = Lists().MatchWord(folded);
  return m.base < 0 ? "" : std::string(Lists().Base(m.base));
}

std::vector<std::string> Terms(std::string_view text) {
  Scratch s;
  testing::Tokenise(text, &s);
  std::vector<std::string> out;
  for (const Token& t : s.tokens)
    if (t.bad >= 0) out.emplace_back(Lists().Base(t.bad));
  return out;
}

TEST(Profanity, WholeWordsThroughLeetAndStretching) {
  EXPECT_EQ(Base("mierda"), "mierda");
  EXPECT_EQ(Base("m1erda"), "mierda");
  EXPECT_EQ(Base("fuuuck"), "fuck");
  EXPECT_EQ(Base("a$$hole"), "asshole");
  EXPECT_EQ(Base("motherfucker"), "fuck");  // an affix form
  EXPECT_EQ(Base("as"), "");                // "ass" needs its two s
  EXPECT_EQ(Base("scunthorpe"), "");
}

TEST(Profanity, SelfCensoredNeedsTwoRealLetters) {
  EXPECT_EQ(Base("f*ck"), "fuck");
  EXPECT_EQ(Base("s**t"), "shit");
  EXPECT_EQ(Base("m*****"), "");  // masked output is never flagged again
}

TEST(Profanity, WordsInPiecesAreOneWord) {
  EXPECT_EQ(Terms("p.u.t.a"), std::vector<std::string>{"puta"});
  EXPECT_EQ(Terms("f u c k this"), std::vector<std::string>{"fuck"});
  EXPECT_EQ(Terms("mier.da"), std::vector<std::string>{"mierda"});
  EXPECT_EQ(Terms("c u later"), std::vector<std::string>{});
}

TEST(Profanity, AllowListDependsOnLanguage) {
  EXPECT_EQ(Terms("hicimos una porra para el partido"), std::vector<std::string>{});
  EXPECT_EQ(Terms("porra, esqueci a carteira"), std::vector<std::string>{"porra"});
}

}  // namespace
}  // namespace chatpipe::analysis
