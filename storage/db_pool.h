// DbPool: a few threads, each owning one blocking PgConn, that run jobs for the event loops.
//
// An event loop must never block, so ingress hands every PostgreSQL query to this pool as a job; the
// job runs on a pool thread with that thread's connection and posts its result back to the loop it
// came from. (Password hashing, as slow, has a pool of its own: a flood of sign-ins must not take
// these connections from history and joins.) The queue is bounded (a WorkPool): when it is full
// Submit() refuses at once, and the caller answers 503 instead of queueing without end.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/work_pool.h"
#include "storage/pg.h"

namespace chatpipe {

class DbPool {
 public:
  using Job = std::function<void(PgConn&)>;
  DbPool(const std::string& conninfo, int threads, size_t max_queued = 10000);
  ~DbPool() { Stop(); }
  // Runs the jobs already queued, then joins the threads; Submit() refuses from then on, so callers
  // still around during a shutdown (callbacks of connections being freed) get "busy", not a crash.
  void Stop() { pool_->Stop(); }
  bool Submit(Job job);  // false when the queue is full or the pool has stopped

 private:
  std::vector<std::unique_ptr<PgConn>> conns_;  // one per thread; outlives pool_'s threads
  std::unique_ptr<WorkPool> pool_;
};

}  // namespace chatpipe
