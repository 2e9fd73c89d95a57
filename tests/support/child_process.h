// ChildProcess: a program a test runs beside itself (a chatpipe worker, ops/smtp-sink), owned by the
// test that spawned it.
//
// The child dies with the test process, even when the test crashes (PR_SET_PDEATHSIG), so nothing
// outlives a test run. Its output is appended to a log file, or goes to the test's own output when no
// log is given. The destructor ends a child still running: SIGTERM (and SIGCONT, should it be
// stopped), up to 15 s to exit, then SIGKILL.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace chatpipe::test {

class ChildProcess {
 public:
  // Runs argv[0] (a path) with `argv`; output to `log` when it is not empty.
  static Result<std::unique_ptr<ChildProcess>> Spawn(const std::vector<std::string>& argv, const std::string& log = "");
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void Signal(int sig);
  // SIGSTOP, then waits up to `limit` until every thread of the child has stopped; false if it did not
  // (or it exited). Signal(SIGCONT) resumes it.
  bool Stop(std::chrono::milliseconds limit);
  // Waits up to `limit` for the exit; the exit code, or -1 (killed by a signal, or still running).
  int Wait(std::chrono::milliseconds limit);
  // True while the child has not exited (nor been killed).
  bool Running();
  // SIGKILL, and waits for it to be gone: a crash, as far as the rest of the system can tell.
  void Kill();
  pid_t pid() const { return pid_; }

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

}  // namespace chatpipe::test
