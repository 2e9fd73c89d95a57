#include "common/process_group.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace chatpipe {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kRestartPause = std::chrono::seconds(1);

// One child's place in the group: the process now in it, and whether that one said it serves.
struct Slot {
  pid_t pid = -1;
  int started_fd = -1;  // read end of the pipe the child writes one byte to once it serves
  bool started = false;
  Clock::time_point forked{};  // a slot whose process ended is forked again kRestartPause after this
};

std::string Describe(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

void CloseStartedPipe(Slot& slot) {
  if (slot.started_fd >= 0) close(slot.started_fd);
  slot.started_fd = -1;
}

// The child's side: never returns.
[[noreturn]] void RunChild(int index, int started_fd, pid_t parent, const ProcessGroup::Child& child) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(1);  // the parent died before the request took hold
  const std::function<void()> started = [&started_fd] {
    if (started_fd < 0) return;
    const char byte = 1;
    (void)!write(started_fd, &byte, 1);
    close(started_fd);
    started_fd = -1;
  };
  const int code = child(index, started);
  // _exit, not exit: the static destructors belong to the parent's objects, copied into this process.
  if (auto logger = spdlog::default_logger()) logger->flush();
  std::fflush(nullptr);
  _exit(code);
}

bool Fork(int index, Slot& slot, const ProcessGroup::Child& child, std::vector<Slot>& slots) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    spdlog::error("process {}: pipe failed: {}", index, std::strerror(errno));
    return false;
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    spdlog::error("process {}: fork failed: {}", index, std::strerror(errno));
    close(fds[0]);
    close(fds[1]);
    return false;
  }
  if (pid == 0) {
    close(fds[0]);
    for (Slot& other : slots) CloseStartedPipe(other);
    RunChild(index, fds[1], parent, child);
  }
  close(fds[1]);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  slot.pid = pid;
  slot.started_fd = fds[0];
  slot.started = false;
  slot.forked = Clock::now();
  return true;
}

// Reads the started pipes that have something; waits up to `timeout` for one to.
void ReadStarted(std::vector<Slot>& slots, std::chrono::milliseconds timeout) {
  std::vector<pollfd> fds;
  for (Slot& slot : slots)
    if (slot.started_fd >= 0) fds.push_back({slot.started_fd, POLLIN, 0});
  if (fds.empty()) {
    poll(nullptr, 0, static_cast<int>(timeout.count()));
    return;
  }
  if (poll(fds.data(), fds.size(), static_cast<int>(timeout.count())) <= 0) return;
  for (Slot& slot : slots) {
    if (slot.started_fd < 0) continue;
    char byte;
    const ssize_t n = read(slot.started_fd, &byte, 1);
    if (n == 1) slot.started = true;
    if (n == 1 || n == 0) CloseStartedPipe(slot);  // 0: it ended without a word (the reap says how)
  }
}

}  // namespace

int ProcessGroup::Run(int count, const Child& child, const std::atomic<bool>& stop) {
  std::vector<Slot> slots(static_cast<size_t>(count));
  bool stopping = false;
  int result = 0;
  auto stop_all = [&] {
    stopping = true;
    for (Slot& slot : slots)
      if (slot.pid > 0) kill(slot.pid, SIGTERM);
  };
  for (int i = 0; i < count && !stopping; ++i)
    if (!Fork(i, slots[static_cast<size_t>(i)], child, slots)) {
      result = 1;
      stop_all();
    }
  for (;;) {
    if (stop && !stopping) stop_all();
    ReadStarted(slots, std::chrono::milliseconds(50));
    int status = 0;
    for (pid_t pid; (pid = waitpid(-1, &status, WNOHANG)) > 0;) {
      for (size_t i = 0; i < slots.size(); ++i) {
        Slot& slot = slots[i];
        if (slot.pid != pid) continue;
        slot.pid = -1;
        ReadStarted(slots, std::chrono::milliseconds(0));  // a byte written just before the end
        CloseStartedPipe(slot);
        if (stopping) {
          if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) result = 1;
        } else if (!slot.started) {
          spdlog::error("process {} ended before it started ({}): stopping the others", i, Describe(status));
          result = 1;
          stop_all();
        } else {
          spdlog::error("process {} ended ({}): starting it again", i, Describe(status));
        }
      }
    }
    if (stopping) {
      bool any = false;
      for (const Slot& slot : slots) any = any || slot.pid > 0;
      if (!any) return result;
      continue;
    }
    for (size_t i = 0; i < slots.size(); ++i)
      if (slots[i].pid < 0 && Clock::now() >= slots[i].forked + kRestartPause && !Fork(static_cast<int>(i), slots[i], child, slots)) {
        result = 1;
        stop_all();
        break;
      }
  }
}

}  // namespace chatpipe
