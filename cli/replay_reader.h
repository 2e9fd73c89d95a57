// TopicReplayer: reads a range of one topic for `chatpipe replay`, fast and without a consumer group.
//
// It uses librdkafka's partition-assigned (legacy) consumer: each partition is started at an explicit
// offset on one queue and read in batches. No group.id is configured, so nothing is joined, committed
// or listed among the broker's groups, and no worker is disturbed. Messages of one partition come in
// offset order; chat.messages is keyed by room, so that is each room's order too.
//
// The TopicReplayer owns its librdkafka handle; the plan it makes owns nothing of it.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/replay_range.h"
#include "common/status.h"

namespace chatpipe {

struct PartitionRange {
  int32_t partition = 0;
  int64_t low = 0, high = 0;     // what the partition held when the replay started
  int64_t start = 0, end = 0;    // the range: [start, end)
  int64_t next = 0;              // the next offset to write: start, up to end when done
  // The range starts at a time before the partition's oldest record, which is not its first ever
  // (low > 0): records of the range may have gone with retention.
  bool before_retention = false;
};

struct ReplayPlan {
  std::vector<PartitionRange> partitions;  // only those the range names
  int32_t partition_count = 0;             // of the topic
  int64_t Total() const;                   // offsets in the range
  int64_t Done() const;                    // offsets passed so far
};

class TopicReplayer {
 public:
  static Result<std::unique_ptr<TopicReplayer>> Create(const std::string& brokers, const std::string& topic);
  ~TopicReplayer();

  // Resolves `from` and `to` (none: the ends the partitions have now) to offsets per partition.
  Result<ReplayPlan> Plan(const RangeBound& from, const std::optional<RangeBound>& to,
                          std::chrono::milliseconds timeout);

  // The record at `offset` of `partition` (the first one there is from it on): for its timestamp and
  // its event, where retention cut a range.
  Result<std::string> ReadPayloadAt(int32_t partition, int64_t offset, std::chrono::milliseconds timeout);

  // Reads every partition of `plan` from `next` to `end`, calling `sink` for each message in offset
  // order per partition and `tick` after each batch, until done, `stop` is set or an error ends a
  // partition. `next` says how far each got.
  Status Run(ReplayPlan* plan, const std::function<void(const rd_kafka_message_t&)>& sink,
             const std::function<void()>& tick, const std::atomic<bool>& stop);

  // The partition the producers' partitioner (librdkafka's default, consistent_random: CRC32 of the
  // key) puts `key` in.
  int32_t PartitionOf(std::string_view key, int32_t partition_count) const;

 private:
  TopicReplayer() = default;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_topic_t* rkt_ = nullptr;
  std::string topic_;
};

}  // namespace chatpipe
