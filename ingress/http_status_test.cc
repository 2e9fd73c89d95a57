#include "ingress/http_status.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

TEST(HttpStatusFor, MediaRefusalsHaveTheirOwnCodes) {
  EXPECT_EQ(HttpStatusFor(Status::InvalidArgument("unsupported_type", "")), 415);
  EXPECT_EQ(HttpStatusFor(Status::InvalidArgument("type_mismatch", "")), 415);
  EXPECT_EQ(HttpStatusFor(Status::InvalidArgument("range_not_satisfiable", "")), 416);
  EXPECT_EQ(HttpStatusFor(Status::InvalidArgument("bad_image", "")), 400);
  EXPECT_EQ(HttpStatusFor(Status::TooLarge("too_many_pixels", "")), 413);
}

TEST(ForClient, UnreachablePostgresIsAGeneric503) {
  Status raw = Status::Unavailable(
      "db_unavailable", "PostgreSQL: connection to server at \"127.0.0.1\", port 5432 failed: Connection refused");
  Status shown = ForClient(raw);
  EXPECT_EQ(HttpStatusFor(shown), 503);
  EXPECT_EQ(shown.name(), "unavailable");
  EXPECT_EQ(shown.detail().find("127.0.0.1"), std::string::npos);
  EXPECT_EQ(shown.detail().find("PostgreSQL"), std::string::npos);
}

TEST(ForClient, RedisTextIsHiddenToo) {
  Status shown = ForClient(Status::Unavailable("redis_unavailable", "Redis: Connection reset by peer"));
  EXPECT_EQ(shown.name(), "unavailable");
  EXPECT_EQ(shown.detail().find("Redis"), std::string::npos);
}

TEST(ForClient, AStatementPostgresRefusedKeepsItsStatusButNotItsText) {
  Status raw = Status::Postgres("23505", "duplicate key value violates unique constraint \"users_name_key\"");
  Status shown = ForClient(raw);
  EXPECT_EQ(HttpStatusFor(shown), HttpStatusFor(raw));
  EXPECT_EQ(shown.name(), "db_error");
  EXPECT_EQ(shown.detail().find("users_name_key"), std::string::npos);
  EXPECT_EQ(HttpStatusFor(ForClient(Status::Postgres("XX000", "internal error at x.c:12"))), 500);
}

TEST(ForClient, OtherRefusalsPassAsTheyAre) {
  Status own = Status::InvalidArgument("bad_name", "name must be 1 to 32 letters");
  EXPECT_EQ(ForClient(own).name(), "bad_name");
  EXPECT_EQ(ForClient(own).detail(), own.detail());
  EXPECT_EQ(ForClient(Status::Unavailable("busy", "the server is overloaded; try again")).name(), "busy");
}

}  // namespace
}  // namespace chatpipe
