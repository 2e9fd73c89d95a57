#include "analysis/normalize.h"

#include <gtest/gtest.h>

#include <string>

namespace chatpipe::analysis {
namespace {

std::string Runs(const Squeezed& s) {
  std::string out;
  for (size_t i = 0; i < s.size; ++i) out += std::to_string(s.runs[i]);
  return out;
}

TEST(Normalize, UndoesLeetspeak) {
  EXPECT_EQ(Unleet('4', false), 'a');
  EXPECT_EQ(Unleet('$', false), 's');
  EXPECT_EQ(Unleet('1', false), 'i');
  EXPECT_EQ(Unleet('1', true), 'l');
  EXPECT_EQ(Unleet('x', false), 'x');
  EXPECT_EQ(Unleet('\xC3', false), '\xC3');
}

TEST(Normalize, SqueezesRunsAndKeepsTheirLengths) {
  Squeezed s;
  ASSERT_TRUE(Squeeze("fuuuck", false, &s));
  EXPECT_EQ(s.view(), "fuck");
  EXPECT_EQ(Runs(s), "1311");
  ASSERT_TRUE(Squeeze("a$$", false, &s));
  EXPECT_EQ(s.view(), "as");
  EXPECT_EQ(Runs(s), "12");
  ASSERT_TRUE(Squeeze("sh1t", false, &s));
  EXPECT_EQ(s.view(), "shit");
  EXPECT_FALSE(Squeeze("2024", false, &s));                      // no letter
  std::string alternating;
  for (int k = 0; k < 30; ++k) alternating += "ab";
  EXPECT_FALSE(Squeeze(alternating, false, &s));  // too long
  EXPECT_FALSE(Squeeze("$$$", false, &s));
}

TEST(Normalize, CutsStretchedLetters) {
  char buf[64];
  EXPECT_EQ(CutRuns("buenooo", 1, buf), "bueno");
  EXPECT_EQ(CutRuns("goooood", 2, buf), "good");
  EXPECT_TRUE(HasRun("goood"));
  EXPECT_FALSE(HasRun("gad"));
}

TEST(Normalize, RecognisesLaughter) {
  for (const char* w : {"jajaja", "hahah", "jeje", "kkkk", "rsrs", "jiji", "ahah"}) EXPECT_TRUE(IsLaugh(w)) << w;
  for (const char* w : {"ja", "jaja1", "hola", "jojo", "rsr", "aaaa"}) EXPECT_FALSE(IsLaugh(w)) << w;
}

}  // namespace
}  // namespace chatpipe::analysis
