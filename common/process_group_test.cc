// ProcessGroup with real forked children. Each child writes its index to a pipe the test reads, says
// it started, and waits for SIGTERM, which only the group sends it.
#include "common/process_group.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <algorithm>
#include <atomic>
#include <functional>
#include <future>
#include <string>

#include "tests/support/wait.h"

namespace chatpipe {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A pipe the children write their indexes to, one character each.
class Reports {
 public:
  Reports() { EXPECT_EQ(pipe2(fds_, O_CLOEXEC), 0); }
  ~Reports() {
    close(fds_[0]);
    close(fds_[1]);
  }
  void Write(int index) const {
    const char c = static_cast<char>('0' + index);
    (void)!write(fds_[1], &c, 1);
  }
  // What the children wrote until `count` characters came, or the deadline.
  std::string Read(size_t count) {
    test::WaitFor([&](milliseconds left) {
      pollfd p{fds_[0], POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) == 1) {
        char buf[64];
        const ssize_t n = read(fds_[0], buf, std::min(sizeof buf, count - got_.size()));
        if (n > 0) got_.append(buf, static_cast<size_t>(n));
      }
      return got_.size() >= count;
    }, test::kWaitTimeout);
    return got_;
  }

 private:
  int fds_[2] = {-1, -1};
  std::string got_;
};

// The child's end: SIGTERM blocked first, so the group's stop is what ends it and never its default.
int ReportAndWaitForTerm(const Reports& reports, int index, const std::function<void()>& started) {
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigprocmask(SIG_BLOCK, &term, nullptr);
  started();
  reports.Write(index);
  int sig = 0;
  sigwait(&term, &sig);
  return 0;
}

TEST(ProcessGroupTest, EveryIndexRunsOnceAndTheStopEndsThemAll) {
  Reports reports;
  std::atomic<bool> stop{false};
  auto group = std::async(std::launch::async, [&] {
    return ProcessGroup::Run(3, [&](int i, const auto& started) { return ReportAndWaitForTerm(reports, i, started); },
                             stop);
  });
  std::string got = reports.Read(3);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, "012");
  stop = true;
  ASSERT_EQ(group.wait_for(seconds(30)), std::future_status::ready);
  EXPECT_EQ(group.get(), 0);
}

TEST(ProcessGroupTest, AChildThatEndsAfterItStartedIsStartedAgain) {
  Reports reports;
  char marker[] = "/tmp/chatpipe-process-group-XXXXXX";
  const int fd = mkstemp(marker);
  ASSERT_GE(fd, 0);
  close(fd);
  unlink(marker);  // its absence means: the first run of child 0
  std::atomic<bool> stop{false};
  auto group = std::async(std::launch::async, [&] {
    return ProcessGroup::Run(1, [&](int i, const auto& started) {
      if (access(marker, F_OK) != 0) {  // the first time: start, then crash
        FILE* f = std::fopen(marker, "w");
        if (f) std::fclose(f);
        started();
        reports.Write(i);
        raise(SIGKILL);  // a crash, without a core file
      }
      return ReportAndWaitForTerm(reports, i, started);
    }, stop);
  });
  EXPECT_EQ(reports.Read(2), "00");  // once before the crash, once after the restart
  stop = true;
  ASSERT_EQ(group.wait_for(seconds(30)), std::future_status::ready);
  EXPECT_EQ(group.get(), 0);
  unlink(marker);
}

TEST(ProcessGroupTest, AChildThatEndsBeforeItStartedStopsTheGroup) {
  Reports reports;
  std::atomic<bool> stop{false};  // never set: the failed start alone ends the group
  auto group = std::async(std::launch::async, [&] {
    return ProcessGroup::Run(3, [&](int i, const auto& started) {
      if (i == 1) return 7;  // a port in use, say
      return ReportAndWaitForTerm(reports, i, started);
    }, stop);
  });
  ASSERT_EQ(group.wait_for(seconds(30)), std::future_status::ready);
  EXPECT_EQ(group.get(), 1);
}

}  // namespace
}  // namespace chatpipe
