#include "common/rfc3339.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

TEST(Rfc3339Test, ReadsUtcOffsetsFractionsAndDates) {
  EXPECT_EQ(*ParseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseRfc3339("2026-12-03T10:00:00Z"), 1796292000000);
  EXPECT_EQ(*ParseRfc3339("2026-12-03T11:00:00+01:00"), 1796292000000);
  EXPECT_EQ(*ParseRfc3339("2026-12-03T09:30:00-00:30"), 1796292000000);
  EXPECT_EQ(*ParseRfc3339("2026-12-03T10:00:00.25Z"), 1796292000250);
  EXPECT_EQ(*ParseRfc3339("2026-12-03T10:00:00.123456Z"), 1796292000123);
  EXPECT_EQ(*ParseRfc3339("2026-12-03t09:30:00.25-00:30"), 1796292000250);
  EXPECT_EQ(*ParseRfc3339("2026-12-03 10:00:00.123456789z"), 1796292000123);
  EXPECT_EQ(*ParseRfc3339("2024-02-29T00:00:00Z"), 1709164800000);  // a leap day
  EXPECT_EQ(*ParseRfc3339("2026-12-03T09:59:60Z"), 1796292000000);  // a leap second
}

TEST(Rfc3339Test, RefusesWhatIsNoTime) {
  // A date alone is an RFC 3339 full-date but no date-time: refused, like a time without a zone.
  for (const char* bad : {"", "yesterday", "2026-12-03", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                          "2025-02-29T00:00:00Z", "2026-12-3T10:00:00Z", "2026-12-03T10:00", "2026-12-03T10:00:00",
                          "2026-12-03T24:00:00Z", "2026-12-03T10:00:00.Z", "2026-12-03T10:00:00Zx",
                          "2026-12-03T10:00:00+0100", "2026-12-03T10:00:00+1:00", "2026-12-03x10:00:00Z",
                          "1796292000000"}) {
    auto r = ParseRfc3339(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().name(), "bad_time") << bad;
  }
}

TEST(Rfc3339Test, FormatsWhatItParses) {
  EXPECT_EQ(FormatRfc3339(1796292000250), "2026-12-03T10:00:00.250Z");
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(-1), "1969-12-31T23:59:59.999Z");
  for (int64_t ms : {int64_t{0}, int64_t{1709164800001}, int64_t{-1}, int64_t{253402300799999}})
    EXPECT_EQ(*ParseRfc3339(FormatRfc3339(ms)), ms) << ms;
}

}  // namespace
}  // namespace chatpipe
