#include "tests/support/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tests/support/wait.h"

namespace chatpipe::test {

Result<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(const std::vector<std::string>& argv, const std::string& log) {
  // Everything the child needs is made before fork(): after it, only async-signal-safe calls.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const char* log_path = log.empty() ? nullptr : log.c_str();
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return Status::Internal("fork: " + std::string(strerror(errno)));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the test died before prctl took effect
    if (log_path) {
      int out = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
      int in = open("/dev/null", O_RDONLY);
      if (out < 0 || in < 0) _exit(127);
      dup2(in, 0);
      dup2(out, 1);
      dup2(out, 2);
    }
    execv(args[0], args.data());
    _exit(127);
  }
  std::unique_ptr<ChildProcess> child(new ChildProcess());
  child->pid_ = pid;
  return child;
}

void ChildProcess::Signal(int sig) {
  if (!reaped_) kill(pid_, sig);
}

bool ChildProcess::Stop(std::chrono::milliseconds limit) {
  if (reaped_) return false;
  kill(pid_, SIGSTOP);
  // A stopped child is reported once the whole thread group has stopped (WUNTRACED).
  bool stopped = false;
  WaitFor([this, &stopped] {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG | WUNTRACED) != pid_) return false;
    if (WIFSTOPPED(status)) return stopped = true;
    status_ = status;  // it exited
    reaped_ = true;
    return true;
  }, limit);
  return stopped;
}

int ChildProcess::Wait(std::chrono::milliseconds limit) {
  WaitFor([this] {
    if (!reaped_ && waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
    return reaped_;
  }, limit);
  if (!reaped_ || !WIFEXITED(status_)) return -1;
  return WEXITSTATUS(status_);
}

bool ChildProcess::Running() {
  if (!reaped_ && waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
  return !reaped_;
}

void ChildProcess::Kill() {
  if (reaped_) return;
  kill(pid_, SIGKILL);
  if (waitpid(pid_, &status_, 0) == pid_) reaped_ = true;
}

ChildProcess::~ChildProcess() {
  if (reaped_) return;
  Signal(SIGTERM);
  Signal(SIGCONT);  // a stopped child acts on the SIGTERM only once it runs again
  Wait(std::chrono::seconds(15));
  Kill();
}

}  // namespace chatpipe::test
