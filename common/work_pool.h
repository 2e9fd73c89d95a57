// WorkPool: a few threads of its own running jobs from one bounded queue, for work too slow for an
// event loop: password hashing (ingress's password pool), and under DbPool, PostgreSQL queries.
//
// The queue is bounded: when it is full Submit() refuses at once, so that the caller answers "busy"
// instead of queueing without end (a flood of sign-ins then costs its senders, not the others). The
// pool owns its threads; Stop() (or the destructor) runs what is queued, then joins them.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace chatpipe {

class WorkPool {
 public:
  using Job = std::function<void()>;
  // Each thread first runs `start` with its index (0 to threads - 1), when given: DbPool gives each
  // thread its connection so.
  WorkPool(int threads, size_t max_queued, std::function<void(int thread)> start = {});
  ~WorkPool() { Stop(); }
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // False when `max_queued` jobs wait already, or the pool has stopped. Thread-safe.
  bool Submit(Job job);
  // Runs the jobs already queued, then joins the threads; Submit() refuses from then on.
  void Stop();

 private:
  void Work(int thread);
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Job> jobs_;  // under mu_
  const size_t max_queued_;
  const std::function<void(int)> start_;
  bool stopping_ = false;  // under mu_
  std::vector<std::thread> threads_;
};

}  // namespace chatpipe
