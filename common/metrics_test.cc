#include "common/metrics.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

TEST(MetricsTest, AFamilyIsDescribedOnceBeforeAllItsSeries) {
  Metrics m;
  m.Get("jobs_total", "jobs done", "counter", {{"worker", "persist"}}).Add(3);
  m.Get("queue_length", "waiting", "gauge").Set(7);
  m.Get("jobs_total", "jobs done", "counter", {{"worker", "tag"}}).Add(1);
  m.Get("jobs_total", "jobs done", "counter", {{"worker", "persist"}}).Add(2);
  EXPECT_EQ(m.Render(),
            "# HELP jobs_total jobs done\n"
            "# TYPE jobs_total counter\n"
            "jobs_total{worker=\"persist\"} 5\n"
            "jobs_total{worker=\"tag\"} 1\n"
            "# HELP queue_length waiting\n"
            "# TYPE queue_length gauge\n"
            "queue_length 7\n");
}

TEST(MetricsTest, ADeclaredFamilyIsDescribedBeforeItHasSeries) {
  Metrics m;
  m.Declare("refused_total", "requests refused");
  EXPECT_EQ(m.Render(), "# HELP refused_total requests refused\n# TYPE refused_total counter\n");
  m.Get("refused_total", "", "counter", {{"limit", "sends"}}).Add();
  EXPECT_EQ(m.Render(),
            "# HELP refused_total requests refused\n"
            "# TYPE refused_total counter\n"
            "refused_total{limit=\"sends\"} 1\n");
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  Metrics m;
  m.Get("odd_total", "odd labels", "counter", {{"a", "x\"y\\z\nw"}, {"b", "2"}}).Add();
  EXPECT_EQ(m.Render(),
            "# HELP odd_total odd labels\n"
            "# TYPE odd_total counter\n"
            "odd_total{a=\"x\\\"y\\\\z\\nw\",b=\"2\"} 1\n");
}

TEST(MetricsTest, TheSameNameAndLabelsAreTheSameSeries) {
  Metrics m;
  Metric& a = m.Get("n_total", "", "counter", {{"worker", "mail"}});
  Metric& b = m.Get("n_total", "filled in later", "counter", {{"worker", "mail"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &m.Get("n_total", "", "counter", {{"worker", "tag"}}));
  EXPECT_NE(m.Render().find("# HELP n_total filled in later\n"), std::string::npos);
}

TEST(MetricsTest, AHistogramCountsEachDurationInTheFirstBucketThatHoldsIt) {
  Metrics m;
  LatencyHistogram& h = m.GetHistogram("hop_seconds", "time per hop", {{"hop", "store"}});
  EXPECT_EQ(&h, &m.GetHistogram("hop_seconds", "", {{"hop", "store"}}));
  h.Observe(100);                                // on a bound: that bucket
  h.Observe(101);                                // just over: the next
  h.Observe(std::chrono::milliseconds(12), 3);  // a batch of three events, 12 ms each
  h.Observe(60'000'000);                         // past the last bound: +Inf only
  const std::string text = m.Render();
  EXPECT_EQ(text.find("# HELP hop_seconds time per hop\n# TYPE hop_seconds histogram\n"), 0u);
  EXPECT_NE(text.find("hop_seconds_bucket{hop=\"store\",le=\"0.0001\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("hop_seconds_bucket{hop=\"store\",le=\"0.00025\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("hop_seconds_bucket{hop=\"store\",le=\"0.01\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("hop_seconds_bucket{hop=\"store\",le=\"0.015\"} 5\n"), std::string::npos);
  EXPECT_NE(text.find("hop_seconds_bucket{hop=\"store\",le=\"10\"} 5\n"), std::string::npos);
  EXPECT_NE(text.find("hop_seconds_bucket{hop=\"store\",le=\"+Inf\"} 6\n"), std::string::npos);
  EXPECT_NE(text.find("hop_seconds_sum{hop=\"store\"} 60.036201\n"), std::string::npos);
  EXPECT_NE(text.find("hop_seconds_count{hop=\"store\"} 6\n"), std::string::npos);
}

TEST(MetricsTest, AHistogramWithoutLabelsGetsLeAlone) {
  Metrics m;
  m.GetHistogram("wait_seconds", "waits").Observe(-5);  // clocks disagreeing: counted as 0
  const std::string text = m.Render();
  EXPECT_NE(text.find("wait_seconds_bucket{le=\"0.0001\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("wait_seconds_sum 0\n"), std::string::npos);
}

}  // namespace
}  // namespace chatpipe
