#include "ingress/board_hub.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

TEST(PixelsFrameTest, ReadsWhatTheWorkersScriptPublishesAndEncodesItBack) {
  const std::string text = R"({"type":"pixels","prev":1764810000041,"v":1764810000043,"pixels":[[1,2,3],[4,5,6]]})";
  PixelsFrame f;
  ASSERT_TRUE(ReadPixelsFrame(text, &f));
  EXPECT_EQ(f.prev, 1764810000041);
  EXPECT_EQ(f.v, 1764810000043);
  EXPECT_EQ(f.items, "[1,2,3],[4,5,6]");
  EXPECT_EQ(EncodePixelsFrame(f.prev, f.v, f.items), text);
}

TEST(PixelsFrameTest, RefusesEveryOtherText) {
  PixelsFrame f;
  for (const char* bad : {"", "{}", R"({"type":"message","room":1})", R"({"type":"pixels","prev":1,"v":2,"pixels":[])",
                          R"({"type":"pixels","prev":x,"v":2,"pixels":[]})", R"({"type":"pixels","prev":2,"v":2,"pixels":[]})",
                          R"({"type":"pixels","v":2,"prev":1,"pixels":[]})"})
    EXPECT_FALSE(ReadPixelsFrame(bad, &f)) << bad;
}

}  // namespace
}  // namespace chatpipe
