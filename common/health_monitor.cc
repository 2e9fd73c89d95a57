#include "common/health_monitor.h"

namespace chatpipe {

void HealthMonitor::Set(const std::string& name, Check check, std::string pending) {
  std::lock_guard<std::mutex> run(run_mu_);
  std::lock_guard<std::mutex> results(results_mu_);
  size_t i = 0;
  while (i < checks_.size() && checks_[i].name != name) ++i;
  if (i == checks_.size()) {
    checks_.push_back({name, nullptr});
    results_.push_back({name, ""});
  }
  checks_[i].check = std::move(check);
  results_[i].state = std::move(pending);
  rerun_ = true;
  wake_.notify_one();
}

void HealthMonitor::Start() { thread_ = std::thread([this] { Run(); }); }

void HealthMonitor::Stop() {
  {
    std::lock_guard<std::mutex> run(run_mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

std::vector<CheckResult> HealthMonitor::Results() const {
  std::lock_guard<std::mutex> results(results_mu_);
  return results_;
}

void HealthMonitor::Run() {
  std::unique_lock<std::mutex> run(run_mu_);
  while (!stopping_) {
    rerun_ = false;
    for (size_t i = 0; i < checks_.size() && !stopping_; ++i) {
      if (!checks_[i].check) continue;
      Status s = checks_[i].check();
      std::lock_guard<std::mutex> results(results_mu_);
      results_[i].state = s.ok() ? "ok" : s.detail();
    }
    wake_.wait_for(run, interval_, [this] { return stopping_ || rerun_; });
  }
}

}  // namespace chatpipe
