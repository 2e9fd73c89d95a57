#include "cli/replay_range.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

TEST(ReplayRange, ParsesRfc3339TimesInAnyZone) {
  EXPECT_EQ(*ParseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseRfc3339("2026-12-03T10:00:00Z"), 1796292000000);
  EXPECT_EQ(*ParseRfc3339("2026-12-03T11:00:00+01:00"), 1796292000000);
  EXPECT_EQ(*ParseRfc3339("2026-12-03t09:30:00.25-00:30"), 1796292000250);
  EXPECT_EQ(*ParseRfc3339("2026-12-03 10:00:00.123456789z"), 1796292000123);
  EXPECT_EQ(*ParseRfc3339("2024-02-29T00:00:00Z"), 1709164800000);  // a leap day
}

TEST(ReplayRange, RefusesMalformedTimes) {
  for (const char* bad : {"2026-12-03", "2026-12-03T10:00:00", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
                          "2026-12-03T24:00:00Z", "2026-12-03T10:00:00.Z", "2026-12-03T10:00:00+1:00",
                          "2026-12-03T10:00:00Zjunk", "2026-12-3T10:00:00Z"}) {
    auto r = ParseRfc3339(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
}

TEST(ReplayRange, FormatsWhatItParses) {
  EXPECT_EQ(FormatRfc3339(1796292000250), "2026-12-03T10:00:00.250Z");
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(*ParseRfc3339(FormatRfc3339(1709164800001)), 1709164800001);
}

TEST(ReplayRange, ParsesEachKindOfBound) {
  EXPECT_EQ(ParseRangeBound("earliest")->kind, RangeBound::Kind::kEarliest);
  EXPECT_EQ(ParseRangeBound("latest")->kind, RangeBound::Kind::kLatest);
  auto t = ParseRangeBound("2026-12-03T10:00:00Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->kind, RangeBound::Kind::kTime);
  EXPECT_EQ(t->time_ms, 1796292000000);
  auto o = ParseRangeBound("0:120,3:7");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->kind, RangeBound::Kind::kOffsets);
  EXPECT_EQ(o->offsets, (std::map<int32_t, int64_t>{{0, 120}, {3, 7}}));
}

TEST(ReplayRange, RefusesBadOffsetLists) {
  for (const char* bad : {"", "first", "0:", ":5", "0:5,", "0:5,0:6", "-1:5", "0:-5", "0:5x", "a:b", "0:5;1:2"}) {
    auto r = ParseRangeBound(bad);
    EXPECT_FALSE(r.ok()) << "'" << bad << "'";
  }
}

}  // namespace
}  // namespace chatpipe
