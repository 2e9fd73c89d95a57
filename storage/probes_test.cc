// PgProbe and RedisProbe on the suite's real PostgreSQL and Redis (ops/test exports CHATPIPE_PG and
// CHATPIPE_REDIS), on a closed port, and on a peer that accepts and never answers.
#include "storage/probes.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "common/health_monitor.h"
#include "storage/pg.h"
#include "tests/support/loopback_server.h"
#include "tests/support/stack.h"

namespace chatpipe {
namespace {

using std::chrono::milliseconds;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Takes what a client sends and never says a word, until the test ends.
test::LoopbackServer Silent() {
  return test::LoopbackServer([](int fd) {
    char buf[4096];
    while (::recv(fd, buf, sizeof buf, 0) > 0) {
    }
  });
}

// Runs `check` and says how long it took.
template <typename F>
milliseconds Timed(F&& check, Status* out) {
  auto start = std::chrono::steady_clock::now();
  *out = check();
  return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
}

class ProbesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pg = Env("CHATPIPE_PG");
    redis = Env("CHATPIPE_REDIS");
    ASSERT_FALSE(pg.empty() || redis.empty())
        << "CHATPIPE_PG and CHATPIPE_REDIS are not set: run the tests with ops/test";
  }
  std::string pg, redis;
};

TEST_F(ProbesTest, PostgresAnswersAndKeepsAnsweringAfterItsSessionIsEnded) {
  const std::string name = "probes-test-" + std::to_string(::getpid());
  PgProbe probe(pg + " application_name=" + name);
  Status s = probe.Check(kHealthCheckTimeout);
  ASSERT_TRUE(s.ok()) << s.ToString();
  // The probe's own session ended between checks (as a restart would): the next check still says ok.
  PgConn admin(pg);
  auto r = admin.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", {name});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows(), 1);
  s = probe.Check(kHealthCheckTimeout);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(ProbesTest, PostgresOnAClosedPortSaysWhy) {
  PgProbe probe("host=127.0.0.1 port=" + std::to_string(test::FreeLoopbackPort()) + " dbname=none");
  Status s = probe.Check(kHealthCheckTimeout);
  EXPECT_EQ(s.name(), "db_unavailable");
  EXPECT_NE(s.detail().find("refused"), std::string::npos) << s.detail();
  EXPECT_EQ(s.detail().find('\n'), std::string::npos) << s.detail();
}

TEST_F(ProbesTest, ASilentPostgresTimesOutInTime) {
  test::LoopbackServer silent = Silent();
  PgProbe probe("host=127.0.0.1 port=" + std::to_string(silent.port()) + " dbname=none");
  Status s;
  milliseconds took = Timed([&] { return probe.Check(milliseconds(300)); }, &s);
  EXPECT_EQ(s.name(), "db_unavailable");
  EXPECT_NE(s.detail().find("within the check's time"), std::string::npos) << s.detail();
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, milliseconds(1000));
}

TEST_F(ProbesTest, RedisAnswersAndSaysWhyWhenItCannot) {
  size_t colon = redis.rfind(':');
  RedisProbe up(redis.substr(0, colon), std::stoi(redis.substr(colon + 1)));
  Status s = up.Check(kHealthCheckTimeout);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(up.Check(kHealthCheckTimeout).ok());  // on the kept connection
  RedisProbe closed("127.0.0.1", test::FreeLoopbackPort());
  s = closed.Check(kHealthCheckTimeout);
  EXPECT_EQ(s.name(), "redis_unavailable");
  EXPECT_NE(s.detail().find("refused"), std::string::npos) << s.detail();
}

TEST_F(ProbesTest, ASilentRedisTimesOutInTime) {
  test::LoopbackServer silent = Silent();
  RedisProbe probe("127.0.0.1", silent.port());
  Status s;
  milliseconds took = Timed([&] { return probe.Check(milliseconds(300)); }, &s);
  EXPECT_EQ(s.name(), "redis_unavailable");
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, milliseconds(1000));
}

}  // namespace
}  // namespace chatpipe
