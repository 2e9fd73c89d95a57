#include "analysis/mask.h"

#include <gtest/gtest.h>

#include "analysis/test_lexicon.h"

namespace chatpipe {
namespace {

std::string Masked(std::string_view text) {
  analysis::Scratch s;
  analysis::testing::Tokenise(text, &s);
  for (analysis::Token& t : s.tokens) t.mask = t.bad >= 0;
  return analysis::MaskText(text, s.tokens);
}

TEST(Mask, TermKeepsItsFirstCharacter) {
  EXPECT_EQ(MaskTerm("mierda"), "m*****");
  EXPECT_EQ(MaskTerm("coño"), "c***");      // one '*' per character, not per byte
  EXPECT_EQ(MaskTerm("ñoño"), "ñ***");      // a first character of two bytes stays whole
  EXPECT_EQ(MaskTerm("x"), "x");
  EXPECT_EQ(MaskTerm(""), "");
}

TEST(Mask, TextKeepsEverythingButTheBadWords) {
  EXPECT_EQ(Masked("vete a la mierda"), "vete a la m*****");
  EXPECT_EQ(Masked("p.u.t.a madre"), "p.*.*.* madre");
  EXPECT_EQ(Masked("ese cabrón 😡"), "ese c***** 😡");
  EXPECT_EQ(Masked("\xFF mierda \xFE"), "\xFF m***** \xFE");
  EXPECT_EQ(Masked("todo bien"), "todo bien");
}

// A room may mask one level and not the other: a bad word the caller leaves unmasked stays whole, its
// pieces too.
TEST(Mask, OnlyTheWordsToMask) {
  analysis::Scratch s;
  const std::string text = "p.u.t.a y mierda";
  analysis::testing::Tokenise(text, &s);
  for (analysis::Token& t : s.tokens) t.mask = t.bad >= 0 && text[t.begin] == 'm';
  EXPECT_EQ(analysis::MaskText(text, s.tokens), "p.u.t.a y m*****");
}

}  // namespace
}  // namespace chatpipe
