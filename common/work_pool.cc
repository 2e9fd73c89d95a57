#include "common/work_pool.h"

namespace chatpipe {

WorkPool::WorkPool(int threads, size_t max_queued, std::function<void(int)> start)
    : max_queued_(max_queued), start_(std::move(start)) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back(&WorkPool::Work, this, i);
}

bool WorkPool::Submit(Job job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || jobs_.size() >= max_queued_) return false;
    jobs_.push_back(std::move(job));
  }
  ready_.notify_one();
  return true;
}

void WorkPool::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void WorkPool::Work(int thread) {
  if (start_) start_(thread);
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace chatpipe
