#include "bench/loadgen/soak.h"

#include <gtest/gtest.h>

namespace chatpipe::bench {
namespace {

TEST(SoakTest, ParsesMemoryCsvAndNamesTheBadLine) {
  auto ok = ParseMemoryCsv("unix_ms,process,kind,metric,value\n1000,ingress.0,chatpipe,rss_kb,2048\n"
                           "6000,redis,service,used_memory_kb,12.5\n");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].unix_ms, 1000);
  EXPECT_EQ((*ok)[0].process, "ingress.0");
  EXPECT_EQ((*ok)[1].metric, "used_memory_kb");
  EXPECT_DOUBLE_EQ((*ok)[1].value, 12.5);

  auto bad = ParseMemoryCsv("header\n1,a,chatpipe,rss_kb,1\n2,a,elsewhere,rss_kb,1\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().detail().find("line 3"), std::string::npos) << bad.status().ToString();
  EXPECT_FALSE(ParseMemoryCsv("h\n1,a,chatpipe,rss_kb,lots\n").ok());
  EXPECT_FALSE(ParseMemoryCsv("h\n1,a,chatpipe,rss_kb\n").ok());
}

TEST(SoakTest, FitLineIsLeastSquares) {
  auto line = FitLine({{0, 1}, {1, 3}, {2, 5}});
  ASSERT_TRUE(line.has_value());
  EXPECT_DOUBLE_EQ(line->slope, 2);
  EXPECT_DOUBLE_EQ(line->intercept, 1);
  auto noisy = FitLine({{0, 0}, {1, 2}, {2, 0}, {3, 2}});
  ASSERT_TRUE(noisy.has_value());
  EXPECT_NEAR(noisy->slope, 0.4, 1e-12);
  EXPECT_FALSE(FitLine({{1, 1}}).has_value());
  EXPECT_FALSE(FitLine({{1, 1}, {1, 2}}).has_value());  // one x: no slope
}

// RSS in KiB every 5 s over a 100-second run: the judged span is 50..100 s.
std::vector<std::pair<double, double>> Rss(double base, double kib_per_s) {
  std::vector<std::pair<double, double>> points;
  for (int t = -10; t <= 110; t += 5) points.emplace_back(t, base + kib_per_s * std::max(t, 0));
  return points;
}

TEST(SoakTest, FlatUnlessTheSecondHalfRisesPastTheRule) {
  const FlatRule rule;  // 2% of the mean, at least 2048 KiB
  Trend steady = TrendOf(Rss(100 * 1024, 0), 50, 100, rule);
  EXPECT_TRUE(steady.flat);
  EXPECT_EQ(steady.samples, 11u);
  EXPECT_DOUBLE_EQ(steady.first, 100 * 1024);
  EXPECT_DOUBLE_EQ(steady.allowed, 2048);  // 2% of 100 MiB is less than the floor

  // 30 KiB/s: the line rises 1500 KiB over the 50-second span, within the 2 MiB floor.
  Trend slow = TrendOf(Rss(100 * 1024, 30), 50, 100, rule);
  EXPECT_NEAR(slow.rise, 1500, 1e-6);
  EXPECT_NEAR(slow.slope_per_min, 1800, 1e-6);
  EXPECT_TRUE(slow.flat);

  // 50 KiB/s: 2500 KiB, past it: grows.
  Trend leak = TrendOf(Rss(100 * 1024, 50), 50, 100, rule);
  EXPECT_FALSE(leak.flat);
  EXPECT_DOUBLE_EQ(leak.last, 100 * 1024 + 50 * 100);

  // A big process gets 2% of its mean: 1 GiB may rise about 20 MiB.
  Trend big = TrendOf(Rss(1024 * 1024, 300), 50, 100, rule);
  EXPECT_GT(big.allowed, 20000);
  EXPECT_TRUE(big.flat);

  // Growth in the first half only (warm-up) is flat; a fall is flat.
  std::vector<std::pair<double, double>> warm;
  for (int t = 0; t <= 100; t += 5) warm.emplace_back(t, t < 50 ? 1000.0 * t : 50000.0);
  EXPECT_TRUE(TrendOf(warm, 50, 100, rule).flat);
  EXPECT_TRUE(TrendOf(Rss(100 * 1024, -100), 50, 100, rule).flat);
}

TEST(SoakTest, JudgesChatpipesRssAndItsRedisData) {
  EXPECT_TRUE(Judged("chatpipe", "rss_kb"));
  EXPECT_TRUE(Judged("service", "used_memory_kb"));
  EXPECT_FALSE(Judged("chatpipe", "fds"));
  EXPECT_FALSE(Judged("service", "rss_kb"));
}

}  // namespace
}  // namespace chatpipe::bench
