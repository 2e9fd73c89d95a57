#include "cli/replay_filter.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

const char* kMessage = R"({"v":1,"type":"message","room":3,"id":"1","user":{"id":7,"name":"Ana"},"text":"x","ts":1})";
const char* kMention = R"({"type":"mention","room":{"id":4,"name":"g"},"from":{"id":7,"name":"bea"},"ts":1})";

TEST(ReplayFilter, NoFilterKeepsEverythingEvenWhatIsNotJson) {
  ReplayFilter f;
  EXPECT_TRUE(f.Keep("", "not json", false));
}

TEST(ReplayFilter, ARoomFilterOnARoomKeyedTopicReadsTheKey) {
  ReplayFilter f({3, 5}, {});
  EXPECT_TRUE(f.Keep("3", "not parsed", true));
  EXPECT_FALSE(f.Keep("4", kMessage, true));
  EXPECT_FALSE(f.Keep("3x", kMessage, true));
}

TEST(ReplayFilter, RoomsAndUsersComeFromTheEvent) {
  EXPECT_TRUE(ReplayFilter({3}, {}).Keep("", kMessage, false));
  EXPECT_TRUE(ReplayFilter({4}, {}).Keep("", kMention, false));
  EXPECT_FALSE(ReplayFilter({3}, {}).Keep("", kMention, false));
  EXPECT_TRUE(ReplayFilter({}, {"ana"}).Keep("3", kMessage, true));  // names: any case
  EXPECT_TRUE(ReplayFilter({}, {"BEA"}).Keep("", kMention, false));
  EXPECT_FALSE(ReplayFilter({}, {"bea"}).Keep("3", kMessage, true));
  // Both given: both must hold.
  EXPECT_TRUE(ReplayFilter({3}, {"ana"}).Keep("3", kMessage, true));
  EXPECT_FALSE(ReplayFilter({3}, {"bea"}).Keep("3", kMessage, true));
  EXPECT_FALSE(ReplayFilter({3}, {}).Keep("", "not json", false));
}

}  // namespace
}  // namespace chatpipe
