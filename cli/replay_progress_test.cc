#include "cli/replay_progress.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

TEST(ReplayProgress, SaysThePercentageTheRateAndTheTimeLeft) {
  EXPECT_EQ(ReplayProgress::Describe(1000000, 250000, 200000, 2.0), " 25% 200000 events 100000 ev/s ETA 0:06");
  EXPECT_EQ(ReplayProgress::Describe(10000000, 1000, 1000, 1.0), "  0% 1000 events 1000 ev/s ETA 2:46:39");
  EXPECT_EQ(ReplayProgress::Describe(0, 0, 0, 0.0), "100% 0 events 0 ev/s ETA ?");
}

}  // namespace
}  // namespace chatpipe
