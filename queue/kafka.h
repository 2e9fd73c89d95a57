// Thin, owned wrappers around librdkafka: a producer shared by every thread of a process, a batch
// consumer for worker loops, a reader that streams a topic to a callback without joining a group (for
// `chatpipe deadletter` and tests), and topic creation for `chatpipe migrate`.
//
// The producer is idempotent with acks=all: a delivery report of success means the event is in the
// in-sync replicas. The consumer never stores an offset on its own (enable.auto.offset.store=false):
// a worker calls Store() once a batch's effects are durable, and the background auto-commit commits only
// what was stored; a revoke or Close() commits synchronously first.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
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

// Sends events to Kafka from any thread. It holds two librdkafka handles, because a linger that
// batches a busy producer's messages is pure delay for a quiet one: a *batching* handle with the
// configured linger.ms (5 ms by default) and a *prompt* one with linger 0. A message goes on the prompt
// handle while the producer is quiet (fewer than `prompt_below` messages a second, a count that decays
// over a second; once on it, until kLeaveAbove times that), on the batching one otherwise. Order is kept: the producer moves to the other handle
// only once the one it leaves has nothing in flight. Leaving the batching handle it simply stays until
// then; leaving the prompt one, new messages wait in order for its last reports (one round trip), up to
// kMaxHeld of them, past which the move is given up and they all go on the prompt handle. /metrics counts
// the messages each handle took and those that waited (chatpipe_kafka_sent_total, _held_total).
class KafkaProducer {
 public:
  // Called once per Produce(): on a poll thread of the producer's, or at once on the calling thread
  // when the event could not even be queued, or in the destructor (failed) when the broker never
  // confirmed it. Must not block.
  using DeliveryFn = std::function<void(Status)>;
  static constexpr double kPromptBelow = 250;  // messages a second; see bench/README.md ("latency")
  static constexpr double kLeaveAbove = 1.25;  // the prompt handle is left above kLeaveAbove × prompt_below
  static constexpr size_t kMaxHeld = 1000;

  // A `prompt_below` of 0, or a linger.ms of 0 in `extra`, keeps one handle (no prompt one).
  static Result<std::unique_ptr<KafkaProducer>> Create(const std::string& brokers, const KafkaConfig& extra = {},
                                                       double prompt_below = kPromptBelow);
  ~KafkaProducer();  // flushes what is queued (bounded), fails what is left, then stops

  void Produce(const std::string& topic, std::string_view key, std::string_view payload, DeliveryFn done,
               const std::vector<std::pair<std::string, std::string>>& headers = {});
  Status Flush(std::chrono::milliseconds timeout);
  int QueueLength() const;  // messages not reported yet, held ones included
  // Whether `topic` can take messages now: a broker answers a metadata request for it within
  // `timeout`, the topic exists and every partition has a leader among the brokers. A readiness
  // check: thread-safe, and it costs one request.
  Status CheckTopic(const std::string& topic, std::chrono::milliseconds timeout);

 private:
  struct Handle;
  struct Delivery;
  struct Held {
    std::string topic, key, payload;
    std::vector<std::pair<std::string, std::string>> headers;
    DeliveryFn done;
  };
  using Failures = std::vector<std::pair<DeliveryFn, Status>>;

  KafkaProducer();
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void*);
  void Delivered(Handle* from);
  // Which handle the next message goes on; null: hold it. Called with mu_ held.
  Handle* Choose(Failures* failed);
  // Hands one message to `to`, or adds it to `failed`. Called with mu_ held.
  void Send(Handle* to, const std::string& topic, std::string_view key, std::string_view payload, DeliveryFn done,
            const std::vector<std::pair<std::string, std::string>>& headers, Failures* failed);
  void SendHeld(Handle* to, Failures* failed);

  std::unique_ptr<Handle> batching_;
  std::unique_ptr<Handle> prompt_;  // null: one handle only
  double prompt_below_ = 0;

  mutable std::mutex mu_;
  Handle* current_ = nullptr;      // where messages go now
  std::deque<Held> held_;          // waiting for the prompt handle's reports, to go on the batching one
  double recent_ = 0;              // messages produced, decayed by exp(-age / 100 ms)
  std::chrono::steady_clock::time_point recent_at_{};
};

struct KafkaMessage {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string payload;
  int64_t timestamp_ms = -1;  // the producer's create time (chatpipe's topics keep CreateTime); -1: none
  std::vector<std::pair<std::string, std::string>> headers;  // ForEachRecord only
};

class BatchConsumer {
 public:
  static Result<std::unique_ptr<BatchConsumer>> Create(const std::string& brokers, const std::string& group,
                                                       const std::vector<std::string>& topics,
                                                       const KafkaConfig& extra = {});
  ~BatchConsumer();  // Close()

  // Waits up to `timeout` for a first message, then takes whatever else is ready, up to `max`; with a
  // `gather` window, keeps taking what arrives for that long after the first message, up to `max`.
  std::vector<KafkaMessage> Poll(size_t max, std::chrono::milliseconds timeout,
                                 std::chrono::milliseconds gather = std::chrono::milliseconds(0));
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

// The offsets [begin, end) of a partition.
struct OffsetRange {
  int64_t begin = 0;
  int64_t end = INT64_MAX;
};

// What ForEachRecord reads: each partition from its start up to the end it has when the read begins
// (what comes meanwhile is left), narrowed by these.
struct ReadOptions {
  int64_t last = 0;  // > 0: only the newest `last` records of each partition
  // Not empty: only these partitions, each only within its range (partitions the topic lacks are skipped).
  std::map<int32_t, OffsetRange> partitions;
  // A partition short of its end with no record for this long fails the read.
  std::chrono::milliseconds stall = std::chrono::seconds(30);
};

using RecordFn = std::function<Status(const KafkaMessage&)>;

// Reads `topic` without joining a group and hands each record, headers included, to `fn`, keeping
// none: partition after partition in partition order, each in offset order (so by partition, then
// offset; on a topic of one partition, such as chat.deadletter, oldest first). Memory is one record
// plus librdkafka's prefetch of the partition being read, up to 36 MB. Stops at the first failure and
// returns it: `fn`'s, no_topic, or queue_unavailable for a partition with nothing read for
// `options.stall`, naming the partition and the offset it got to.
Status ForEachRecord(const std::string& brokers, const std::string& topic, const ReadOptions& options,
                     const RecordFn& fn);

// The whole of `topic` as ForEachRecord reads it, in memory: for tests and topics known to be small.
Result<std::vector<KafkaMessage>> ReadTopic(const std::string& brokers, const std::string& topic);

struct TopicSpec {
  std::string name;
  int partitions = 4;
  int replication = 1;
};
// Creates the topics that do not exist yet; existing ones are left as they are.
Status CreateTopics(const std::string& brokers, const std::vector<TopicSpec>& topics,
                    std::chrono::milliseconds timeout);

}  // namespace chatpipe
