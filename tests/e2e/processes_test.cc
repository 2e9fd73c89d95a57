// `chatpipe ingress --processes 2` as a child process on the real services: both forked processes
// serve the one port and take each other's tokens (the secret was loaded before the fork), a process
// killed outright is started again by the parent, and SIGTERM to the parent ends them all with 0.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/stack_test_base.h"

namespace chatpipe::test {
namespace {

class ProcessesTest : public StackTest {};

std::vector<pid_t> Children(pid_t parent) {
  std::vector<pid_t> pids;
  std::ifstream in("/proc/" + std::to_string(parent) + "/task/" + std::to_string(parent) + "/children");
  for (pid_t pid; in >> pid;) pids.push_back(pid);
  return pids;
}

// Authenticated requests, each on a new connection (the kernel spreads them over the processes by
// their source ports), until `want` answered: the instance ids that answered. Every answer must be 200.
std::set<std::string> InstancesAnswering(TestStack& stack, const TestUser& user, const std::set<std::string>& want_new,
                                         size_t want) {
  std::set<std::string> seen;
  WaitFor([&] {
    auto r = stack.Call("GET", "/api/rooms", user);
    EXPECT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
    if (r.ok() && r->status == 200 && !want_new.count(r->headers["x-instance-id"])) seen.insert(r->headers["x-instance-id"]);
    return seen.size() >= want;
  });
  return seen;
}

TEST_F(ProcessesTest, TwoProcessesShareThePortAndTheSecretAndOneKilledComesBack) {
  ASSERT_TRUE(stack->StartIngressProcess({"--processes", "2", "--threads", "1"}).ok());
  const pid_t parent = stack->ingress_process()->pid();
  std::vector<pid_t> children;
  ASSERT_TRUE(WaitFor([&] { return (children = Children(parent)).size() == 2; }));

  auto user = stack->Register("forked");  // on one process; the calls below land on both
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  const std::set<std::string> first = InstancesAnswering(*stack, *user, {}, 2);
  ASSERT_EQ(first.size(), 2u);

  // A crash, as far as the parent can tell: it starts the process again, with a new instance id.
  ASSERT_EQ(kill(children[0], SIGKILL), 0);
  std::vector<pid_t> now;
  ASSERT_TRUE(WaitFor([&] {
    now = Children(parent);
    return now.size() == 2 && std::find(now.begin(), now.end(), children[0]) == now.end();
  }));
  EXPECT_NE(std::find(now.begin(), now.end(), children[1]), now.end());  // the other one went on
  const std::set<std::string> fresh = InstancesAnswering(*stack, *user, first, 1);
  EXPECT_EQ(fresh.size(), 1u);

  stack->ingress_process()->Signal(SIGTERM);
  EXPECT_EQ(stack->ingress_process()->Wait(std::chrono::seconds(20)), 0);
  for (pid_t pid : now) EXPECT_NE(kill(pid, 0), 0) << "process " << pid << " outlived its parent";
}

TEST_F(ProcessesTest, ProcessesWithoutAPortAreRefused) {
  auto child = ChildProcess::Spawn(stack->IngressProcessArgs({"--port", "0", "--processes", "2"}));
  ASSERT_TRUE(child.ok());
  EXPECT_EQ((*child)->Wait(std::chrono::seconds(20)), 2);
}

}  // namespace
}  // namespace chatpipe::test
