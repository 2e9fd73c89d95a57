#include "ingress/byte_range.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

using Kind = RangeRequest::Kind;

void ExpectPart(std::string_view header, uint64_t size, uint64_t first, uint64_t last) {
  RangeRequest r = ParseRange(header, size);
  ASSERT_EQ(r.kind, Kind::kPart) << header;
  EXPECT_EQ(r.first, first) << header;
  EXPECT_EQ(r.last, last) << header;
}

TEST(ByteRangeTest, ReadsTheThreeFormsOfASingleRange) {
  ExpectPart("bytes=0-99", 1000, 0, 99);
  ExpectPart("bytes=500-", 1000, 500, 999);
  ExpectPart("bytes=-100", 1000, 900, 999);
  ExpectPart("bytes=900-5000", 1000, 900, 999);  // past the end: clamped
  ExpectPart("bytes=-5000", 1000, 0, 999);
}

TEST(ByteRangeTest, RangesPastTheEndAreUnsatisfiable) {
  EXPECT_EQ(ParseRange("bytes=1000-", 1000).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=-0", 1000).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=0-", 0).kind, Kind::kUnsatisfiable);
}

TEST(ByteRangeTest, WhatIsNotServedMeansTheWholeObject) {
  for (std::string_view h : {"", "items=0-1", "bytes=0-1,5-6", "bytes=5-1", "bytes=a-b", "bytes=-", "bytes=1",
                             "bytes=99999999999999999999999-"})
    EXPECT_EQ(ParseRange(h, 1000).kind, Kind::kWhole) << h;
}

}  // namespace
}  // namespace chatpipe
