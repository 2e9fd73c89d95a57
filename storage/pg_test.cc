// PgConn on the suite's real PostgreSQL (ops/test exports CHATPIPE_PG).
#include "storage/pg.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace chatpipe {
namespace {

// The SQLSTATE used to be read after PQclear had freed it: on a fresh connection a duplicate room
// came back as a 500 db_error with PostgreSQL's text instead of 409 room_exists (found by the API
// check, tests/api/run). Whether the freed bytes were reused by then depends on other threads, so it
// is `ops/test --sanitize` that fails this test for certain: AddressSanitizer's heap-use-after-free.
TEST(PgConnTest, ARefusedStatementKeepsItsSqlState) {
  const char* conninfo = std::getenv("CHATPIPE_PG");
  ASSERT_NE(conninfo, nullptr) << "CHATPIPE_PG is not set: run the tests with ops/test";
  PgConn pg(conninfo);
  ASSERT_TRUE(pg.ExecScript("CREATE TEMP TABLE t (k int UNIQUE)").ok());
  ASSERT_TRUE(pg.Exec("INSERT INTO t VALUES (1)").ok());
  for (int i = 0; i < 2; ++i) {
    auto duplicate = pg.Exec("INSERT INTO t VALUES (1)");
    ASSERT_FALSE(duplicate.ok());
    EXPECT_EQ(duplicate.status().code(), StatusCode::kAlreadyExists) << duplicate.status().ToString();
    EXPECT_NE(duplicate.status().ToString().find("23505"), std::string::npos) << duplicate.status().ToString();
  }
  auto not_a_number = pg.Exec("SELECT $1::int", {std::string("x")});
  ASSERT_FALSE(not_a_number.ok());
  EXPECT_EQ(not_a_number.status().code(), StatusCode::kInvalidArgument) << not_a_number.status().ToString();
}

}  // namespace
}  // namespace chatpipe
