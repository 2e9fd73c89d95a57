// WorkerTestEnv: one isolated deployment for a worker's integration test, on the suite's real
// services (a TestServices: its own database and namespace).
//
// It adds what a worker test needs around the worker under test: users and rooms created as ingress
// would, presence set as ingress does, chat events produced to chat.messages, SQL to check results.
// WorkerEnvTest is the GoogleTest fixture that creates one; WorkerThread runs a worker's Run(stop) on
// a thread of the test. MailTestEnv (mail_env.h) builds on WorkerTestEnv.
#pragma once

#include <gtest/gtest.h>

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
#include "tests/support/services.h"

namespace chatpipe::test {

class WorkerTestEnv {
 public:
  // Its database and namespace are named after `prefix`.
  static Result<std::unique_ptr<WorkerTestEnv>> Create(const std::string& prefix = "w");
  ~WorkerTestEnv();

  const CommonConfig& config() const { return services_->config(); }
  PgConn& pg() { return *pg_; }
  RedisClient& redis() { return *redis_; }

  // A user whose address (if any) counts as verified, as the mailer requires for mention e-mails.
  Result<int64_t> CreateUser(const std::string& name, const std::string& email = "", bool email_notifications = true);
  Result<int64_t> CreateRoom(const std::string& name, bool is_private, int64_t creator,
                             const std::string& moderation = "tag");  // for both levels
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
  // Produces any bytes to `topic` (a full name: config().Topic(...)) and waits until the broker has it.
  Status ProduceTo(const std::string& topic, const std::string& key, const std::string& payload);
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

// Runs a worker's Run(stop) on a thread until destroyed, which sets stop and joins.
class WorkerThread {
 public:
  explicit WorkerThread(std::function<void(const std::atomic<bool>&)> run);
  ~WorkerThread();

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace chatpipe::test
