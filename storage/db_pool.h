// DbPool: a few threads, each owning one blocking PgConn, that run jobs for the event loops.
//
// An event loop must never block, so ingress hands every PostgreSQL query (and every password hash,
// which is as slow) to this pool as a job; the job runs on a pool thread with that thread's connection
// and posts its result back to the loop it came from. The queue is bounded: when it is full Submit()
// refuses at once, and the caller answers 503 instead of queueing without end.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/pg.h"

namespace chatpipe {

class DbPool {
 public:
  using Job = std::function<void(PgConn&)>;
  DbPool(const std::string& conninfo, int threads, size_t max_queued = 10000);
  ~DbPool();  // Stop()
  // Runs the jobs already queued, then joins the threads; Submit() refuses from then on, so callers
  // still around during a shutdown (callbacks of connections being freed) get "busy", not a crash.
  void Stop();
  bool Submit(Job job);  // false when the queue is full or the pool has stopped

 private:
  void Work(PgConn* conn);
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Job> jobs_;
  size_t max_queued_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<PgConn>> conns_;
  std::vector<std::thread> threads_;
};

}  // namespace chatpipe
