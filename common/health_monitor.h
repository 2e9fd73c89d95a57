// HealthMonitor: a process's readiness checks (common/readiness.h), run on a thread of its own once a
// second. /readyz reads their last results without waiting, so an event loop may ask, and a storm of
// probes costs no more than one. Each check is given kHealthCheckTimeout and must return by then.
//
// Checks may be set and replaced while it runs (a worker adds Kafka's once it has joined its group, and
// takes it away before the consumer goes): once Set returns, the check it replaced is not running and
// never runs again, so a check may use an object that dies after it is replaced. A new or replaced
// check runs at once. The monitor owns its thread; Stop (or the destructor) joins it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/readiness.h"
#include "common/status.h"

namespace chatpipe {

inline constexpr std::chrono::milliseconds kHealthCheckTimeout{1000};

class HealthMonitor {
 public:
  using Check = std::function<Status()>;  // Ok, or why not (its detail is the state shown)

  explicit HealthMonitor(std::chrono::milliseconds interval = std::chrono::seconds(1)) : interval_(interval) {}
  ~HealthMonitor() { Stop(); }
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  // Adds the check `name`, or replaces its check; it shows `pending` until the check has run. An empty
  // check is never run: `name` then stays `pending` (a worker's Kafka before it has started).
  void Set(const std::string& name, Check check, std::string pending);
  void Start();
  void Stop();
  // Every check's last state, in the order they were first set. Thread-safe, never waits for a check.
  std::vector<CheckResult> Results() const;

 private:
  struct Entry {
    std::string name;
    Check check;
  };
  void Run();

  const std::chrono::milliseconds interval_;
  std::mutex run_mu_;  // held while checks run: Set and Stop wait for the round in progress
  std::condition_variable wake_;
  std::vector<Entry> checks_;  // guarded by run_mu_
  bool rerun_ = false;         // guarded by run_mu_: a check was set, run a round now
  bool stopping_ = false;      // guarded by run_mu_
  mutable std::mutex results_mu_;
  std::vector<CheckResult> results_;  // guarded by results_mu_, same order as checks_
  std::thread thread_;
};

}  // namespace chatpipe
