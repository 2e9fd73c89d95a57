#include "analysis/string_table.h"

#include <gtest/gtest.h>

#include <string>

namespace chatpipe::analysis {
namespace {

TEST(StringTable, DenseIdsInOrderAndRepeatsKeepTheirs) {
  StringTable t;
  EXPECT_EQ(t.Find("a"), -1);
  EXPECT_EQ(t.Add("hola"), 0);
  EXPECT_EQ(t.Add("mundo"), 1);
  EXPECT_EQ(t.Add("hola"), 0);
  EXPECT_EQ(t.size(), 2);
  EXPECT_EQ(t.Key(1), "mundo");
  EXPECT_EQ(t.Find("mund"), -1);
  EXPECT_EQ(t.Add(""), 2);
  EXPECT_EQ(t.Find(""), 2);
}

TEST(StringTable, GrowsAndFindsEveryKey) {
  StringTable t;
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(t.Add("word-" + std::to_string(i) + std::string(i % 13, 'x')), i);
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(t.Find("word-" + std::to_string(i) + std::string(i % 13, 'x')), i);
  EXPECT_EQ(t.Find("word-5000"), -1);
}

}  // namespace
}  // namespace chatpipe::analysis
