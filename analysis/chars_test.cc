#include "analysis/chars.h"

#include <gtest/gtest.h>

namespace chatpipe::analysis {
namespace {

TEST(Chars, FoldsCaseAndAccentsButKeepsEnye) {
  EXPECT_EQ(FoldWord("MiÉrDa"), "mierda");
  EXPECT_EQ(FoldWord("cabrón"), "cabron");
  EXPECT_EQ(FoldWord("ÇÃÕ"), "cao");
  EXPECT_EQ(FoldWord("Łódź"), "lodz");
  EXPECT_EQ(FoldWord("AÑO"), "año");  // ñ stays apart from n
}

TEST(Chars, DropsMarksAndPunctuationKeepsDigitsLeetAndOpaque) {
  EXPECT_EQ(FoldWord("mi\xCC\x81" "erda"), "mierda");  // i + combining acute
  EXPECT_EQ(FoldWord("m1erd@$"), "m1erd@$");
  EXPECT_EQ(FoldWord("a-b.c"), "abc");
  EXPECT_EQ(FoldWord("Привет"), "Привет");      // other scripts: word characters, unfolded
  EXPECT_EQ(FoldWord("x\xFF" "y"), "x\xFF" "y");  // a byte that is not UTF-8 is carried through
}

TEST(Chars, Classes) {
  EXPECT_EQ(Decode("a", 0).info.kind, kLetter);
  EXPECT_TRUE(Decode("Á", 0).info.upper);
  EXPECT_EQ(Decode("Á", 0).len, 2u);
  EXPECT_EQ(Decode("\xC2\xA0", 0).info.kind, kSpace);       // no-break space
  EXPECT_EQ(Decode("\xE2\x80\x99", 0).info.kind, kApostrophe);  // ’
  EXPECT_EQ(Decode("\xF0\x9F\x98\x80", 0).info.kind, kPunct);  // emoji
  EXPECT_TRUE(Decode("\xE2\x80\xA6", 0).info.clause);          // …
  EXPECT_TRUE(Decode(",", 0).info.clause);
  EXPECT_FALSE(Decode("-", 0).info.clause);
  const Char bad = Decode("\xC3(", 0);
  EXPECT_EQ(bad.info.kind, kOpaque);
  EXPECT_EQ(bad.len, 1u);
}

}  // namespace
}  // namespace chatpipe::analysis
