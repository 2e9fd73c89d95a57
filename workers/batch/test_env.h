// WorkerTestEnv: one isolated deployment for a worker's integration test, on the suite's real services.
//
// ops/test exports where PostgreSQL, Redis and Kafka run (CHATPIPE_PG, CHATPIPE_REDIS, CHATPIPE_KAFKA).
// An environment gets a namespace of its own (topics, consumer groups, Redis keys) and a database of
// its own, migrated, so tests run in parallel without seeing each other; the destructor drops the
// database. Helpers create users and rooms as ingress would, produce chat events, subscribe to Redis
// channels and read a topic from the start. For tests only.
#pragma once

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

class WorkerTestEnv {
 public:
  static Result<std::unique_ptr<WorkerTestEnv>> Create();
  ~WorkerTestEnv();

  const CommonConfig& config() const { return config_; }
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
  CommonConfig config_;
  std::string admin_conninfo_, database_;
  std::unique_ptr<PgConn> pg_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<KafkaProducer> producer_;
  std::unique_ptr<MessageIdGenerator> ids_;
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
