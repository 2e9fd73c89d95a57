#include "bench/loadgen/hops.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/metrics.h"

namespace chatpipe::bench {
namespace {

TEST(HopsTest, ReadsTheHistogramsMetricsRenders) {
  Metrics m;
  LatencyHistogram& produce = m.GetHistogram(kLatencyMetric, "", {{"hop", "produce"}});
  for (int i = 0; i < 100; ++i) produce.Observe(4000);  // all in (3, 5] ms
  m.GetHistogram(kLatencyMetric, "", {{"hop", "kafka"}, {"worker", "persist"}}).Observe(60'000'000);
  m.Get("chatpipe_other_total", "not a hop").Add(7);
  Hops hops = ParseHops(m.Render());
  ASSERT_EQ(hops.size(), 2u);
  const HopHistogram& p = hops.at(R"(hop="produce")");
  EXPECT_EQ(p.count(), 100);
  EXPECT_DOUBLE_EQ(p.sum_s, 0.4);
  EXPECT_EQ(p.buckets.size(), LatencyHistogram::kBoundsUs.size() + 1);
  EXPECT_TRUE(std::isinf(p.buckets.back().first));
  // The median is interpolated inside the bucket (0.003, 0.005] that holds every event.
  EXPECT_NEAR(p.Quantile(0.5), 0.004, 1e-9);
  EXPECT_NEAR(p.Quantile(1.0), 0.005, 1e-9);
  EXPECT_TRUE(std::isinf(hops.at(R"(hop="kafka",worker="persist")").Quantile(0.5)));
}

TEST(HopsTest, AnEndScrapeLessAStartOneIsTheRunsOwnTraffic) {
  Metrics before_run;
  LatencyHistogram& h = before_run.GetHistogram(kLatencyMetric, "", {{"hop", "server"}});
  for (int i = 0; i < 10; ++i) h.Observe(200'000);  // joins and the stack's own check: slow
  const Hops start = ParseHops(before_run.Render());
  for (int i = 0; i < 90; ++i) h.Observe(1'500);  // the run: fast
  Hops run = ParseHops(before_run.Render());
  AddHops(&run, start, -1);
  const HopHistogram& server = run.at(R"(hop="server")");
  EXPECT_EQ(server.count(), 90);
  EXPECT_NEAR(server.sum_s, 90 * 0.0015, 1e-9);
  EXPECT_LE(server.Quantile(0.99), 0.002);
  EXPECT_GT(server.Quantile(0.99), 0.001);
}

TEST(HopsTest, ProcessesAddUp) {
  Metrics a, b;
  a.GetHistogram(kLatencyMetric, "", {{"hop", "fanout"}}).Observe(100);
  b.GetHistogram(kLatencyMetric, "", {{"hop", "fanout"}}).Observe(9'000'000, 3);
  Hops total = ParseHops(a.Render());
  AddHops(&total, ParseHops(b.Render()));
  EXPECT_EQ(total.at(R"(hop="fanout")").count(), 4);
  EXPECT_NEAR(total.at(R"(hop="fanout")").Quantile(0.25), 0.0001, 1e-12);
  EXPECT_GT(total.at(R"(hop="fanout")").Quantile(0.5), 5.0);
}

TEST(HopsTest, AnEmptyHistogramHasNoQuantile) {
  EXPECT_EQ(HopHistogram{}.Quantile(0.5), -1);
}

}  // namespace
}  // namespace chatpipe::bench
