// WorkerTestEnv: one isolated deployment for a worker's integration test, on the suite's real services.
//
// ops/test exports where PostgreSQL, Redis and Kafka run (CHATPIPE_PG, CHATPIPE_REDIS, CHATPIPE_KAFKA).
// TestServices reads them and gives a test a namespace of its own (topics, consumer groups, Redis keys)
// and a database of its own, migrated, so tests run in parallel without seeing each other; it drops the
// database when destroyed. TestStack (tests/support/stack.h) and the mail tests' MailTestEnv build on it
// too. A WorkerTestEnv adds helpers that create users and rooms as ingress would, produce chat events,
// subscribe to Redis channels and read a topic from the start; WorkerEnvTest is the GoogleTest fixture
// that creates one. For tests only.
#pragma once

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/config.h"
#include "common/events.h"
#include "common/message_id.h"
#include "queue/kafka.h"
#include "storage/pg.h"
#include "storage/redis_client.h"

namespace chatpipe::test {

// A test's own database and namespace on the services ops/test exports.
class TestServices {
 public:
  // Fails (with a hint to run through ops/test) when CHATPIPE_PG, CHATPIPE_REDIS or CHATPIPE_KAFKA is
  // unset. Otherwise creates the database <prefix>_<random> and migrates it and the namespace
  // <prefix><random> (topics of `partitions` partitions).
  static Result<std::unique_ptr<TestServices>> Create(const std::string& prefix, int partitions);
  ~TestServices();  // drops the database, ending the connections still open to it

  // The services with the test's database (pg_conninfo) and namespace.
  const CommonConfig& config() const { return config_; }
  // The PostgreSQL server without a database, and the test's database's name: for admin statements.
  const std::string& admin_conninfo() const { return admin_conninfo_; }
  const std::string& database() const { return database_; }

 private:
  TestServices() = default;
  CommonConfig config_;
  std::string admin_conninfo_, database_;
};

class WorkerTestEnv {
 public:
  static Result<std::unique_ptr<WorkerTestEnv>> Create();
  ~WorkerTestEnv();

  const CommonConfig& config() const { return services_->config(); }
  PgConn& pg() { return *pg_; }
  RedisClient& redis() { return *redis_; }

  Result<int64_t> CreateUser(const std::string& name, const std::string& email = "", bool email_notifications = true);
  Result<int64_t> CreateRoom(const std::string& name, bool is_private, int64_t creator,
                             const std::string& moderation = "tag");
  Status AddMember(int64_t room, int64_t user);
  // Marks the user online / present in a room until now + ttl, as ingress does.
  Status SetOnline(int64_t user, std::chrono::milliseconds ttl = std::chrono::seconds(30));
  Status SetPresent(int64_t room, int64_t user, std::chrono::milliseconds ttl = std::chrono::seconds(30));

  // A new event with a fresh id, as ingress would produce it.
  ChatEvent Event(int64_t room, int64_t user, const std::string& user_name, const std::string& text);
  // Produces the events to chat.messages keyed by room and waits until the broker has them all.
  Status Produce(const std::vector<ChatEvent>& events);
  // Produces any bytes to chat.messages (for malformed events).
  Status ProduceRaw(const std::string& key, const std::string& payload);
  // Closes the test's database to new connections and ends the open ones (PostgreSQL "down" for
  // everyone using it), or opens it again.
  Status AllowConnections(bool allow);
  // The first column of the first row of `sql` as an integer (e.g. a count).
  Result<int64_t> QueryInt(const std::string& sql);

 private:
  WorkerTestEnv() = default;
  std::unique_ptr<TestServices> services_;  // first: destroyed (its database dropped) last
  std::unique_ptr<PgConn> pg_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<KafkaProducer> producer_;
  std::unique_ptr<MessageIdGenerator> ids_;
};

// The GoogleTest fixture of a worker's integration tests: SetUp creates env_, which the fixture owns.
// A derived fixture that does more in its own SetUp calls WorkerEnvTest::SetUp() first and returns if
// it failed (`if (HasFatalFailure()) return;`).
class WorkerEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = WorkerTestEnv::Create();
    ASSERT_TRUE(env.ok()) << env.status().ToString();
    env_ = std::move(*env);
  }

  std::unique_ptr<WorkerTestEnv> env_;
};

// A Redis SUBSCRIBE connection: Next() returns the next message published on the channels.
class Subscriber {
 public:
  static Result<std::unique_ptr<Subscriber>> Create(const CommonConfig& config, const std::vector<std::string>& channels);
  ~Subscriber();
  // The next message's payload, or an error when none arrives before the deadline.
  Result<std::string> Next(std::chrono::milliseconds timeout);

 private:
  Subscriber() = default;
  redisContext* ctx_ = nullptr;
};

// Reads a topic from its beginning with a consumer group of its own.
class TopicReader {
 public:
  static Result<std::unique_ptr<TopicReader>> Create(const CommonConfig& config, const std::string& topic);
  // Messages read until `count` have arrived or `timeout` passed, whichever is first.
  std::vector<KafkaMessage> Read(size_t count, std::chrono::milliseconds timeout);

 private:
  std::unique_ptr<BatchConsumer> consumer_;
};

// Runs a worker's Run(stop) on a thread until destroyed.
class WorkerThread {
 public:
  explicit WorkerThread(std::function<void(const std::atomic<bool>&)> run);
  ~WorkerThread();

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Polls `check` until it returns true or `timeout` passes; true when it did.
bool WaitFor(const std::function<bool()>& check, std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace chatpipe::test
