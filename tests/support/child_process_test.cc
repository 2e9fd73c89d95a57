#include "tests/support/child_process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "tests/support/services.h"

namespace chatpipe::test {
namespace {

using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ChildProcessTest, OutputGoesToTheLogAndTheExitCodeComesBack) {
  auto dir = TempDir::Create("chatpipe-child-test");
  ASSERT_TRUE(dir.ok());
  const std::string log = (*dir)->path() + "/child.log";
  auto child = ChildProcess::Spawn({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, log);
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  EXPECT_EQ((*child)->Wait(10s), 3);
  EXPECT_FALSE((*child)->Running());
  EXPECT_EQ(ReadFile(log), "out\nerr\n");
}

TEST(ChildProcessTest, StopPausesItAndKillEndsIt) {
  auto child = ChildProcess::Spawn({"/bin/sleep", "60"});
  ASSERT_TRUE(child.ok());
  EXPECT_TRUE((*child)->Running());
  EXPECT_TRUE((*child)->Stop(10s));
  EXPECT_EQ((*child)->Wait(50ms), -1) << "a stopped child has not exited";
  EXPECT_TRUE((*child)->Running());
  (*child)->Signal(SIGCONT);
  (*child)->Kill();
  EXPECT_FALSE((*child)->Running());
  EXPECT_EQ(kill((*child)->pid(), 0), -1) << "killed and reaped: the pid is gone";
  EXPECT_EQ((*child)->Wait(0ms), -1) << "killed by a signal, not exited";
}

TEST(ChildProcessTest, TheDestructorEndsAStoppedChildWithSigterm) {
  pid_t pid = 0;
  auto t0 = std::chrono::steady_clock::now();
  {
    auto child = ChildProcess::Spawn({"/bin/sleep", "60"});
    ASSERT_TRUE(child.ok());
    pid = (*child)->pid();
    ASSERT_TRUE((*child)->Stop(10s));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s) << "SIGTERM ended it, not the SIGKILL after 15 s";
  EXPECT_EQ(kill(pid, 0), -1);
}

TEST(ChildProcessTest, AProgramThatCannotRunExitsWith127) {
  auto child = ChildProcess::Spawn({"/nonexistent/program"});
  ASSERT_TRUE(child.ok());
  EXPECT_EQ((*child)->Wait(10s), 127);
}

}  // namespace
}  // namespace chatpipe::test
