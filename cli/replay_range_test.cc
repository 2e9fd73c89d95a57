#include "cli/replay_range.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

TEST(ReplayRange, RefusesMalformedTimesWithTheReason) {
  for (const char* bad : {"2026-12-03", "2026-12-03T10:00:00", "2025-02-29T00:00:00Z", "2026-12-03T10:00:00Zjunk"}) {
    auto r = ParseRangeBound(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().name(), "bad_time") << bad;
  }
  EXPECT_NE(ParseRangeBound("2026-12-03T10:00:00").status().ToString().find("has no zone"), std::string::npos);
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

TEST(ReplayRange, RefusesRangesThatCanHoldNothing) {
  auto check = [](const char* from, const char* to) { return CheckRange(*ParseRangeBound(from), *ParseRangeBound(to)); };
  for (auto [from, to] : {std::pair{"earliest", "earliest"}, std::pair{"latest", "earliest"},
                          std::pair{"2026-12-03T10:00:00Z", "2026-12-03T10:00:00Z"},
                          std::pair{"2026-12-03T10:00:00Z", "2026-12-03T09:59:59Z"}, std::pair{"0:50", "0:10"},
                          std::pair{"0:5,1:50", "0:9,1:50"}}) {
    Status s = check(from, to);
    EXPECT_EQ(s.name(), "bad_range") << from << " .. " << to << ": " << s.ToString();
  }
  for (auto [from, to] : {std::pair{"earliest", "latest"}, std::pair{"2026-12-03T10:00:00Z", "2026-12-03T10:00:01Z"},
                          std::pair{"0:5", "0:6"}, std::pair{"0:5", "1:2"}, std::pair{"earliest", "0:1"},
                          std::pair{"2026-12-03T10:00:00Z", "0:3"}})
    EXPECT_TRUE(check(from, to).ok()) << from << " .. " << to;
}

}  // namespace
}  // namespace chatpipe
