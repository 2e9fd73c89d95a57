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

}  // namespace
}  // namespace chatpipe
