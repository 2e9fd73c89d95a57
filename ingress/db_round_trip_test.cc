// RunOnDb on the suite's real PostgreSQL (ops/test exports CHATPIPE_PG).
#include "ingress/db_round_trip.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <thread>

namespace chatpipe {
namespace {

const char* Conninfo() {
  const char* conninfo = std::getenv("CHATPIPE_PG");
  return conninfo ? conninfo : "";
}

// Runs the loop's side until `done` holds, or 10 s have passed.
template <typename T>
void RunUntil(TaskQueue& loop, const std::optional<T>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done && std::chrono::steady_clock::now() < deadline) {
    pollfd p{loop.fd(), POLLIN, 0};
    if (poll(&p, 1, 100) == 1) loop.RunPending();
  }
}

TEST(DbRoundTripTest, TheResultComesBackOnTheLoop) {
  ASSERT_NE(std::getenv("CHATPIPE_PG"), nullptr) << "CHATPIPE_PG is not set: run the tests with ops/test";
  DbPool pool(Conninfo(), 1);
  TaskQueue loop(4);
  const auto loop_thread = std::this_thread::get_id();
  std::optional<Result<int64_t>> got;
  bool on_loop = false;
  RunOnDb<int64_t>(
      loop, pool,
      [](PgConn& pg) -> Result<int64_t> {
        auto r = pg.Exec("SELECT 41 + 1");
        if (!r.ok()) return r.status();
        return r->Int(0, 0);
      },
      [&](Result<int64_t> r) {
        on_loop = std::this_thread::get_id() == loop_thread;
        got = std::move(r);
      });
  EXPECT_EQ(loop.owed(), 1u) << "the answer's place is reserved while the job runs";
  RunUntil(loop, got);
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->ok()) << got->status().ToString();
  EXPECT_EQ(**got, 42);
  EXPECT_TRUE(on_loop);
  EXPECT_EQ(loop.owed(), 0u);
}

TEST(DbRoundTripTest, AFullPoolAnswersBusyAtOnceAndFreesTheReservation) {
  DbPool pool(Conninfo(), 1, 0);  // a queue of 0: every job refused
  TaskQueue loop(4);
  std::optional<Result<int>> got;
  bool ran = false;
  RunOnDb<int>(
      loop, pool, [&ran](PgConn&) -> Result<int> { ran = true; return 1; },
      [&](Result<int> r) { got = std::move(r); });
  ASSERT_TRUE(got.has_value()) << "a refusal answers before RunOnDb returns";
  EXPECT_EQ(got->status().name(), "busy");
  EXPECT_EQ(got->status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(loop.owed(), 0u);
  pool.Stop();
  EXPECT_FALSE(ran);
}

TEST(DbRoundTripTest, ALoopOwingTooMuchAnswersBusyWithoutQueueingTheJob) {
  DbPool pool(Conninfo(), 1);
  TaskQueue loop(1);
  ASSERT_TRUE(loop.Admit());  // one answer owed already: the loop is full
  std::optional<Result<int>> got;
  bool ran = false;
  RunOnDb<int>(
      loop, pool, [&ran](PgConn&) -> Result<int> { ran = true; return 1; },
      [&](Result<int> r) { got = std::move(r); });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status().name(), "busy");
  EXPECT_EQ(loop.owed(), 1u);
  pool.Stop();  // runs whatever was queued: nothing must have been
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace chatpipe
