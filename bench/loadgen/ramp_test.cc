#include "bench/loadgen/ramp.h"

#include <gtest/gtest.h>

namespace chatpipe::bench {
namespace {

TEST(RampTest, PlotsHalfTheSocketsAsConnectionsAndMemoryInGib) {
  auto samples = ParseMemoryCsv(
      "unix_ms,process,kind,metric,value\n"
      "1000,kernel,machine,tcp_sockets,10\n"
      "1000,ingress,chatpipe,rss_kb,1048576\n"
      "3000,kernel,machine,tcp_sockets,2000010\n"
      "3000,kernel,machine,slab_kb,2097152\n"
      "3000,loadgen,loadgen,rss_kb,524288\n");
  ASSERT_TRUE(samples.ok()) << samples.status().ToString();
  const RampPlots plots = MakeRampPlots(*samples, {{2500, "all connected"}}, {"commit abc"});
  ASSERT_EQ(plots.connections.series.size(), 1u);
  const auto& open = plots.connections.series[0].points;
  ASSERT_EQ(open.size(), 2u);
  EXPECT_DOUBLE_EQ(open[0].first, 0);
  EXPECT_DOUBLE_EQ(open[0].second, 5);
  EXPECT_DOUBLE_EQ(open[1].first, 2);
  EXPECT_DOUBLE_EQ(open[1].second, 1000005);
  ASSERT_EQ(plots.memory.series.size(), 4u);
  EXPECT_EQ(plots.memory.series[0].points, (std::vector<std::pair<double, double>>{{2, 2}}));  // slab
  EXPECT_EQ(plots.memory.series[1].points, (std::vector<std::pair<double, double>>{{0, 1}}));  // ingress
  EXPECT_EQ(plots.memory.series[2].points, (std::vector<std::pair<double, double>>{{2, 0.5}}));  // loadgen
  EXPECT_TRUE(plots.memory.series[3].points.empty());  // no TCP buffers sampled
  ASSERT_EQ(plots.memory.marks.size(), 1u);
  EXPECT_DOUBLE_EQ(plots.memory.marks[0].first, 1.5);
  EXPECT_EQ(plots.connections.title.back(), "commit abc");
  EXPECT_NE(RenderTimeSvg(plots.memory).find("kernel slab"), std::string::npos);
}

TEST(RampTest, AnUnknownKindIsRefused) {
  EXPECT_FALSE(ParseMemoryCsv("unix_ms,process,kind,metric,value\n1,x,elsewhere,rss_kb,1\n").ok());
}

}  // namespace
}  // namespace chatpipe::bench
