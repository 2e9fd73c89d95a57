// PlanReset: where `chatpipe groups reset` moves each partition (the Kafka side is in
// tests/e2e/reprocess_test.cc).
#include "cli/groups_command.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

// Partition 0 holds [10, 50), partition 1 [0, 5); the group committed 30 on 0 and nothing on 1.
const std::vector<Watermark> kMarks = {{10, 50}, {0, 5}};
const PartitionOffsets kCommitted = {{{"t", 0}, 30}};

using Moves = std::vector<std::pair<int64_t, int64_t>>;

Moves Plan(ResetTarget target, std::vector<int64_t> at_time = {}) {
  Moves out;
  for (const auto& p : PlanReset("t", kMarks, kCommitted, target, at_time)) out.push_back({p.current, p.next});
  return out;
}

TEST(PlanResetTest, EarliestAndLatestAreTheWatermarks) {
  EXPECT_EQ(Plan({ResetTarget::kEarliest, 0}), (Moves{{30, 10}, {-1, 0}}));
  EXPECT_EQ(Plan({ResetTarget::kLatest, 0}), (Moves{{30, 50}, {-1, 5}}));
}

TEST(PlanResetTest, ShiftMovesFromTheCommittedOffsetWithinTheWatermarks) {
  EXPECT_EQ(Plan({ResetTarget::kShift, -5}), (Moves{{30, 25}, {-1, 0}}));
  EXPECT_EQ(Plan({ResetTarget::kShift, 3}), (Moves{{30, 33}, {-1, 3}}));
  EXPECT_EQ(Plan({ResetTarget::kShift, -100}), (Moves{{30, 10}, {-1, 0}}));
  EXPECT_EQ(Plan({ResetTarget::kShift, 100}), (Moves{{30, 50}, {-1, 5}}));
}

TEST(PlanResetTest, DatetimeTakesTheOffsetsOfTheTime) {
  EXPECT_EQ(Plan({ResetTarget::kDatetime, 1796292000000}, {40, 5}), (Moves{{30, 40}, {-1, 5}}));
}

TEST(PlanResetTest, OtherTopicsOffsetsAreNotThisOnes) {
  auto plan = PlanReset("u", kMarks, kCommitted, {ResetTarget::kShift, 1}, {});
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].current, -1);
  EXPECT_EQ(plan[0].next, 11);
}

}  // namespace
}  // namespace chatpipe
