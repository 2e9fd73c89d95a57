// Thin, owned wrappers around librdkafka: a producer shared by every thread of a process, a batch
// consumer for worker loops, and topic creation for `chatpipe migrate`.
//
// The producer is idempotent with acks=all: a delivery report of success means the event is in the
// in-sync replicas. The consumer never stores an offset on its own (enable.auto.offset.store=false):
// a worker calls Store() once a batch's effects are durable, and the background auto-commit commits only
// what was stored; a revoke or Close() commits synchronously first.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"

namespace chatpipe {

using KafkaConfig = std::map<std::string, std::string>;

// librdkafka's own lines go through spdlog (common/log.h) like every other: left alone, it writes its
// own format to stderr, which would break a log of JSON lines. Every rd_kafka_conf_t of ours gets it.
void LogKafkaThroughSpdlog(rd_kafka_conf_t* conf);

class KafkaProducer {
 public:
  // Called once per Produce(): on the producer's poll thread, or at once on the calling thread when
  // the event could not even be queued, or in the destructor (failed) when the broker never confirmed
  // it. Must not block.
  using DeliveryFn = std::function<void(Status)>;

  static Result<std::unique_ptr<KafkaProducer>> Create(const std::string& brokers, const KafkaConfig& extra = {});
  ~KafkaProducer();  // flushes what is queued (bounded), fails what is left, then stops

  void Produce(const std::string& topic, std::string_view key, std::string_view payload, DeliveryFn done,
               const std::vector<std::pair<std::string, std::string>>& headers = {});
  Status Flush(std::chrono::milliseconds timeout);
  int QueueLength() const { return rd_kafka_outq_len(rk_); }
  // Whether `topic` can take messages now: a broker answers a metadata request for it within
  // `timeout`, the topic exists and every partition has a leader among the brokers. A readiness
  // check: thread-safe, and it costs one request.
  Status CheckTopic(const std::string& topic, std::chrono::milliseconds timeout);

 private:
  KafkaProducer() = default;
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void*);
  rd_kafka_t* rk_ = nullptr;
  std::atomic<bool> stopping_{false};
  std::thread poller_;
};

struct KafkaMessage {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string payload;
  int64_t timestamp_ms = -1;  // the producer's create time (chatpipe's topics keep CreateTime); -1: none
  std::vector<std::pair<std::string, std::string>> headers;  // ReadTopic only
};

class BatchConsumer {
 public:
  static Result<std::unique_ptr<BatchConsumer>> Create(const std::string& brokers, const std::string& group,
                                                       const std::vector<std::string>& topics,
                                                       const KafkaConfig& extra = {});
  ~BatchConsumer();  // Close()

  // Waits up to `timeout` for a first message, then takes whatever else is ready, up to `max`.
  std::vector<KafkaMessage> Poll(size_t max, std::chrono::milliseconds timeout);
  // Marks the messages as done; the next commit covers them. Call only once their effects are durable.
  Status Store(const std::vector<KafkaMessage>& done);
  Status CommitSync();
  void Close();  // commits what is stored and leaves the group
  // Whether the consumer is in touch with the cluster and in its group: a broker answers a metadata
  // request within `timeout`, and the group has given it a member id (it has joined, with or without
  // partitions). A readiness check: callable from any thread until the consumer is destroyed (after
  // Close it says so).
  Status CheckJoined(std::chrono::milliseconds timeout);
  // Messages in the assigned partitions not stored yet: each partition's high watermark, as the last
  // fetch saw it (no broker round trip), minus the offset stored, or else the first offset read since
  // it was assigned (reading starts at the committed offset). A partition nothing was read from since
  // it was assigned counts 0: it is idle, or its committed offset would take a broker round trip.
  int64_t Lag() const;

 private:
  BatchConsumer() = default;
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                          void* self);
  rd_kafka_t* rk_ = nullptr;
  std::mutex close_mu_;  // Close waits for a CheckJoined in progress on another thread
  std::string group_;  // for log lines
  std::map<std::pair<std::string, int32_t>, int64_t> stored_;  // next offset to store, per partition read
};

// Reads `topic` without joining a group: from the start of each partition, or its `last` newest
// messages when `last` > 0, up to the ends it had when called; by partition, then offset. Fails when
// the topic does not exist or the ends are not reached within `timeout`.
Result<std::vector<KafkaMessage>> ReadTopic(const std::string& brokers, const std::string& topic, int64_t last,
                                            std::chrono::milliseconds timeout);

struct TopicSpec {
  std::string name;
  int partitions = 4;
  int replication = 1;
};
// Creates the topics that do not exist yet; existing ones are left as they are.
Status CreateTopics(const std::string& brokers, const std::vector<TopicSpec>& topics,
                    std::chrono::milliseconds timeout);

}  // namespace chatpipe
