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
  EXPECT_EQ(*ParseRfc3339("2026-12-03"), 1796256000000);
  EXPECT_EQ(*ParseRfc3339("2026-12-03 10:00:00z"), 1796292000000);
}

TEST(Rfc3339Test, RefusesWhatIsNoTime) {
  for (const char* bad : {"", "yesterday", "2026-13-01", "2026-02-30", "2026-12-03T10:00", "2026-12-03T10:00:00",
                          "2026-12-03T25:00:00Z", "2026-12-03T10:00:00.Z", "2026-12-03T10:00:00Zx",
                          "2026-12-03T10:00:00+0100", "1796292000000"}) {
    auto r = ParseRfc3339(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().name(), "bad_time") << bad;
  }
}

}  // namespace
}  // namespace chatpipe
