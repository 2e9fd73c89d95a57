#include "storage/db_pool.h"

namespace chatpipe {

DbPool::DbPool(const std::string& conninfo, int threads, size_t max_queued) : max_queued_(max_queued) {
  for (int i = 0; i < threads; ++i) {
    conns_.push_back(std::make_unique<PgConn>(conninfo));
    threads_.emplace_back(&DbPool::Work, this, conns_.back().get());
  }
}

DbPool::~DbPool() { Stop(); }

void DbPool::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

bool DbPool::Submit(Job job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || jobs_.size() >= max_queued_) return false;
    jobs_.push_back(std::move(job));
  }
  ready_.notify_one();
  return true;
}

void DbPool::Work(PgConn* conn) {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job(*conn);
  }
}

}  // namespace chatpipe
