// RunOnDb: the one way ingress reaches PostgreSQL, as a round trip from a loop and back; RunOnPool the
// same for a WorkPool (password hashing).
//
// A loop must never block, so `job` runs on a pool thread (RunOnDb: with that thread's connection), and
// `done` gets its result on the loop's thread (through the loop's TaskQueue). When the loop owes too
// many answers already (TaskQueue::Admit) or the pool's queue is full, `done` gets Busy() at once,
// before the call returns. `done` runs exactly once either way. Call it on the loop's thread; the
// loop's TaskQueue must outlive the pool's threads (IngressServer stops the pools before it frees
// the loops).
#pragma once

#include <functional>
#include <memory>
#include <utility>

#include "common/status.h"
#include "common/work_pool.h"
#include "ingress/task_queue.h"
#include "storage/db_pool.h"

namespace chatpipe {

// Any pool whose Submit takes a job called with `Args&...` (DbPool: the thread's PgConn; WorkPool:
// nothing) and answers false when it refuses.
template <typename T, typename Pool, typename... Args>
void RoundTrip(TaskQueue& loop, Pool& pool, std::function<Result<T>(Args&...)> job,
               std::function<void(Result<T>)> done) {
  if (!loop.Admit()) return done(Busy());
  // Shared: a refused job is destroyed inside Submit(), and `done` must still answer.
  auto answer = std::make_shared<std::function<void(Result<T>)>>(std::move(done));
  bool queued = pool.Submit([&loop, job = std::move(job), answer](Args&... args) {
    loop.Answer([answer, result = job(args...)]() mutable { (*answer)(std::move(result)); });
  });
  if (queued) return;
  loop.Withdraw();
  (*answer)(Busy());
}

template <typename T>
void RunOnDb(TaskQueue& loop, DbPool& pool, std::function<Result<T>(PgConn&)> job,
             std::function<void(Result<T>)> done) {
  RoundTrip<T, DbPool, PgConn>(loop, pool, std::move(job), std::move(done));
}

template <typename T>
void RunOnPool(TaskQueue& loop, WorkPool& pool, std::function<Result<T>()> job, std::function<void(Result<T>)> done) {
  RoundTrip<T, WorkPool>(loop, pool, std::move(job), std::move(done));
}

}  // namespace chatpipe
