#include "common/status.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

TEST(StatusTest, OkHasNoNameNoDetailAndNoSqlstate) {
  Status s = Status::Ok();
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "ok");
  EXPECT_TRUE(s.sqlstate().empty());
}

TEST(StatusTest, PostgresKeepsTheSqlstateAndClassifiesIt) {
  Status unique = Status::Postgres("23505", "duplicate key value");
  EXPECT_EQ(unique.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(unique.sqlstate(), "23505");
  EXPECT_EQ(unique.name(), "db_error");
  EXPECT_EQ(unique.ToString(), "db_error: 23505 duplicate key value");
  EXPECT_EQ(Status::Postgres("22P05", "unsupported Unicode escape").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Status::Postgres("23514", "violates check constraint").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Status::Postgres("42601", "syntax error").code(), StatusCode::kInternal);
}

TEST(StatusTest, UnreachableServicesAreRetried) {
  EXPECT_TRUE(IsRetriable(Status::Unavailable("db_unavailable", "PostgreSQL: connection refused")));
  EXPECT_TRUE(IsRetriable(Status::Unavailable("redis_unavailable", "Redis: connection reset")));
  EXPECT_TRUE(IsRetriable(Status::Unavailable("queue_unavailable", "Kafka: Local: Message timed out")));
}

TEST(StatusTest, DeadlocksAndSerializationFailuresAreRetried) {
  EXPECT_TRUE(IsRetriable(Status::Postgres("40P01", "deadlock detected")));
  EXPECT_TRUE(IsRetriable(Status::Postgres("40001", "could not serialize access")));
}

// Refusals of the server's state, not of the event: a worker that dead-lettered these would divert
// every acknowledged message while the disk is full or a standby is being promoted.
TEST(StatusTest, RefusalsOfTheServersStateAreRetried) {
  for (const char* sqlstate : {"53100", "53200", "53300", "55P03", "57014", "58030", "25006", "42P01", "42883"})
    EXPECT_TRUE(IsRetriable(Status::Postgres(sqlstate, "refused"))) << sqlstate;
  EXPECT_FALSE(IsRetriable(Status::Postgres("25P02", "in failed transaction"))) << "25 is not all retriable";
  EXPECT_FALSE(IsRetriable(Status::Postgres("42601", "syntax error"))) << "our statement's own fault";
}

TEST(StatusTest, TheEventsOwnFaultsAreNot) {
  EXPECT_FALSE(IsRetriable(Status::Ok()));
  EXPECT_FALSE(IsRetriable(Status::Postgres("23505", "duplicate key value")));
  EXPECT_FALSE(IsRetriable(Status::Postgres("22P02", "invalid input syntax (40 chars)")));
  EXPECT_FALSE(IsRetriable(Status::InvalidArgument("bad_event", "no room")));
  EXPECT_FALSE(IsRetriable(Status::Internal("40 is not a code here")));
}

}  // namespace
}  // namespace chatpipe
