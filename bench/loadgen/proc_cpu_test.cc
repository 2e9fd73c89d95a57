#include "bench/loadgen/proc_cpu.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

namespace chatpipe::bench {
namespace {

TEST(ProcCpuTest, TicksOfAProcessWhoseNameHoldsSpacesAndParens) {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
  EXPECT_EQ(ProcStatTicks("1234 (chatpipe) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0"), 300u);
  EXPECT_EQ(ProcStatTicks("99 (a (b) c) R 1 99 99 0 -1 0 0 0 0 0 7 8 0 0"), 15u);
  EXPECT_FALSE(ProcStatTicks("99 (short) R 1 2"));
  EXPECT_FALSE(ProcStatTicks("no parens here"));
}

TEST(ProcCpuTest, BusyTicksOfTheMachineLeaveIdleAndIowaitOut) {
  EXPECT_EQ(MachineBusyTicks("cpu  100 5 30 9000 40 2 3 1 0 0\ncpu0 50 2 15 4500 20 1 1 0 0 0\n"), 141u);
  EXPECT_FALSE(MachineBusyTicks("cpu0 1 2 3 4 5 6 7 8\n"));
  EXPECT_FALSE(MachineBusyTicks("cpu  1 2 3\n"));
}

TEST(ProcCpuTest, GroupsByName) {
  auto g = ParseCpuGroup("ingress=12,34");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->name, "ingress");
  EXPECT_EQ(g->pids, (std::vector<int>{12, 34}));
  auto pg = ParseCpuGroup("postgres=+7,9");
  ASSERT_TRUE(pg);
  EXPECT_EQ(pg->parents, (std::vector<int>{7}));
  EXPECT_EQ(pg->pids, (std::vector<int>{9}));
  EXPECT_FALSE(ParseCpuGroup("postgres=++7"));
  EXPECT_FALSE(ParseCpuGroup("postgres=+"));
  EXPECT_TRUE(ParseCpuGroup("kafka="));  // a service that is not there: no pids
  EXPECT_FALSE(ParseCpuGroup("=12"));
  EXPECT_FALSE(ParseCpuGroup("redis"));
  EXPECT_FALSE(ParseCpuGroup("redis=12x"));
  EXPECT_FALSE(ParseCpuGroup("redis=-3"));
}

TEST(ProcCpuTest, PercentOfOneCorePerGroupAndForTheRest) {
  const std::vector<CpuGroup> groups = {{"ingress", {10, 11}, {}}, {"redis", {20}, {}}};
  CpuSample a, b;
  a.ns = 0, b.ns = 2'000'000'000;  // two seconds at 100 ticks a second
  a.machine = 1000, b.machine = 1300;
  a.pid_ticks = {{10, 5}, {11, 5}, {20, 0}};
  b.pid_ticks = {{10, 105}, {11, 45}, {20, 20}};  // pid 11 still there; a pid gone at the end would count nothing
  auto cpu = CpuPercent(groups, a, b, 100);
  EXPECT_DOUBLE_EQ(cpu["ingress"], 70.0);  // 140 ticks in 2 s
  EXPECT_DOUBLE_EQ(cpu["redis"], 10.0);
  EXPECT_DOUBLE_EQ(cpu["others"], 70.0);   // 300 busy, 160 ours
}

TEST(ProcCpuTest, AChildBornInTheWindowCountsAllItsTime) {
  const std::vector<CpuGroup> groups = {{"postgres", {}, {30}}};
  CpuSample a, b;
  a.ns = 0, b.ns = 1'000'000'000;
  a.machine = 0, b.machine = 100;
  a.members["postgres"] = {30};
  b.members["postgres"] = {30, 31};
  a.pid_ticks = {{30, 10}};
  b.pid_ticks = {{30, 15}, {31, 25}};
  EXPECT_DOUBLE_EQ(CpuPercent(groups, a, b, 100)["postgres"], 30.0);
}

TEST(ProcCpuTest, TheParentOfAProcess) {
  EXPECT_EQ(ProcStatParent("99 (a (b) c) R 17 99 99 0"), 17);
  EXPECT_FALSE(ProcStatParent("99 (x)"));
}

TEST(ProcCpuTest, ASampleOfThisProcessReadsItsTicks) {
  const std::vector<CpuGroup> groups = {{"me", {static_cast<int>(getpid())}, {}}};
  const CpuSample s = CpuSample::Take(groups);
  EXPECT_EQ(s.pid_ticks.count(getpid()), 1u);
  EXPECT_GT(s.machine, 0u);
  // This process is a child of its parent.
  const CpuSample c = CpuSample::Take({{"parent", {}, {static_cast<int>(getppid())}}});
  const std::vector<int>& members = c.members.at("parent");
  EXPECT_NE(std::find(members.begin(), members.end(), static_cast<int>(getpid())), members.end());
}

}  // namespace
}  // namespace chatpipe::bench
