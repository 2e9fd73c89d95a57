#include "common/health_monitor.h"

#include <gtest/gtest.h>

#include <atomic>

#include "tests/support/wait.h"

namespace chatpipe {
namespace {

using test::WaitFor;

std::string StateOf(const HealthMonitor& m, const std::string& name) {
  for (const CheckResult& r : m.Results())
    if (r.name == name) return r.state;
  return "(absent)";
}

TEST(HealthMonitorTest, ShowsPendingThenEachChecksLastResult) {
  std::atomic<bool> up{false};
  HealthMonitor m(std::chrono::milliseconds(10));
  m.Set(
      "redis", [&] { return up ? Status::Ok() : Status::Unavailable("redis_unavailable", "refused"); },
      "not checked");
  m.Set("kafka", {}, "not started");
  EXPECT_EQ(StateOf(m, "redis"), "not checked");
  m.Start();
  EXPECT_TRUE(WaitFor([&] { return StateOf(m, "redis") == "refused"; }));
  up = true;
  EXPECT_TRUE(WaitFor([&] { return StateOf(m, "redis") == "ok"; }));
  EXPECT_EQ(StateOf(m, "kafka"), "not started");  // an empty check never runs
  std::vector<CheckResult> all = m.Results();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "redis");
  EXPECT_EQ(all[1].name, "kafka");
}

TEST(HealthMonitorTest, AReplacedCheckNeverRunsAgain) {
  std::atomic<int> old_runs{0}, new_runs{0};
  HealthMonitor m(std::chrono::milliseconds(5));
  m.Set("kafka", [&] { ++old_runs; return Status::Ok(); }, "joining");
  m.Start();
  ASSERT_TRUE(WaitFor([&] { return old_runs >= 2; }));
  m.Set("kafka", [&] { ++new_runs; return Status::Unavailable("queue_unavailable", "stopped"); }, "stopping");
  const int runs_when_replaced = old_runs;
  ASSERT_TRUE(WaitFor([&] { return new_runs >= 3; }));
  EXPECT_EQ(old_runs, runs_when_replaced);
  EXPECT_EQ(StateOf(m, "kafka"), "stopped");
  ASSERT_EQ(m.Results().size(), 1u);
}

TEST(HealthMonitorTest, ANewCheckRunsAtOnceNotAfterTheInterval) {
  HealthMonitor m(std::chrono::hours(1));
  m.Start();
  m.Set("postgres", [] { return Status::Ok(); }, "not checked");
  EXPECT_TRUE(WaitFor([&] { return StateOf(m, "postgres") == "ok"; }, std::chrono::seconds(10)));
}

}  // namespace
}  // namespace chatpipe
