#include "analysis/string_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

// Keys that share their first eight bytes, their length or both, and keys that differ only in a
// trailing NUL: a slot tells short keys apart by length and head alone, long ones by the arena.
TEST(StringTable, KeysAlikeInHeadOrLengthStayApart) {
  StringTable t;
  const std::string base = "abcdefghijklmnopqrstuvwxyz";
  std::vector<std::string> keys;
  for (size_t n = 0; n <= base.size(); ++n) keys.push_back(base.substr(0, n));  // every prefix
  keys.push_back(std::string("ab\0", 3));
  keys.push_back(std::string("ab\0\0", 4));
  keys.push_back("abcdefgh" + std::string(300, 'x'));
  keys.push_back("abcdefgh" + std::string(299, 'x') + "y");  // same length (over 255), same head
  keys.push_back("abcdefgX");
  keys.push_back("abcdefgh1");
  keys.push_back("abcdefgh2");
  for (size_t i = 0; i < keys.size(); ++i) ASSERT_EQ(t.Add(keys[i]), static_cast<int>(i)) << i;
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(t.Find(keys[i]), static_cast<int>(i)) << i;
  EXPECT_EQ(t.Find(std::string("ab\0\0\0", 5)), -1);
  EXPECT_EQ(t.Find("abcdefgh3"), -1);
  EXPECT_EQ(t.Find("abcdefgh" + std::string(301, 'x')), -1);
}

}  // namespace
}  // namespace chatpipe::analysis
