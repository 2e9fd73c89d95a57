#include "workers/consume/retriable.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

TEST(RetriableTest, UnreachableServicesAreRetried) {
  EXPECT_TRUE(Retriable(Status::Unavailable("db_unavailable", "PostgreSQL: connection refused")));
  EXPECT_TRUE(Retriable(Status::Unavailable("redis_unavailable", "Redis: connection reset")));
  EXPECT_TRUE(Retriable(Status::Unavailable("queue_unavailable", "Kafka: Local: Message timed out")));
}

TEST(RetriableTest, DeadlocksAndSerializationFailuresAreRetried) {
  EXPECT_TRUE(Retriable(Status::Error(500, "db_error", "40P01 ERROR:  deadlock detected")));
  EXPECT_TRUE(Retriable(Status::Error(500, "db_error", "40001 ERROR:  could not serialize access")));
}

TEST(RetriableTest, TheEventsOwnFaultsAreNot) {
  EXPECT_FALSE(Retriable(Status::Ok()));
  EXPECT_FALSE(Retriable(Status::Error(500, "db_error", "23505 ERROR:  duplicate key value")));
  EXPECT_FALSE(Retriable(Status::Error(500, "db_error", "22P02 ERROR:  invalid input syntax (40 chars)")));
  EXPECT_FALSE(Retriable(Status::BadRequest("bad_event", "no room")));
  EXPECT_FALSE(Retriable(Status::Internal("40 is not a code here")));
}

}  // namespace
}  // namespace chatpipe
