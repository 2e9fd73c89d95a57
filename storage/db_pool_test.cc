// DbPool on the suite's real PostgreSQL (ops/test exports CHATPIPE_PG).
#include "storage/db_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>

namespace chatpipe {
namespace {

TEST(DbPoolTest, StopRunsTheQueuedJobsThenRefusesNewOnes) {
  const char* conninfo = std::getenv("CHATPIPE_PG");
  ASSERT_NE(conninfo, nullptr) << "CHATPIPE_PG is not set: run the tests with ops/test";
  DbPool pool(conninfo, 1);
  std::atomic<int> ran{0};
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(pool.Submit([&ran](PgConn& pg) {
      if (pg.Exec("SELECT 1").ok()) ++ran;
    }));
  pool.Stop();
  EXPECT_EQ(ran.load(), 3);
  // During an ingress shutdown, callbacks of connections being freed may still submit: they must be
  // refused (and answered "busy"), not queued to a pool with no threads.
  EXPECT_FALSE(pool.Submit([&ran](PgConn&) { ++ran; }));
  EXPECT_EQ(ran.load(), 3);
}

}  // namespace
}  // namespace chatpipe
