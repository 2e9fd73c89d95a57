// KafkaAdmin: what operators and range runs ask Kafka about consumer groups and topics, through
// librdkafka's admin API: the groups, their members, their committed offsets (read and altered), a
// topic's watermarks and the offsets of a time. `chatpipe groups` and the consume loop's range runs
// (workers/consume) use it.
//
// It owns one client handle, which never joins a group; every call waits at most the timeout given to
// Create, asking again meanwhile while a group's coordinator is not ready (a new broker or group). Offsets are keyed by (topic, partition); an offset of -1 is "none committed".
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace chatpipe {

using TopicPartition = std::pair<std::string, int32_t>;
using PartitionOffsets = std::map<TopicPartition, int64_t>;

struct GroupMember {
  std::string client_id;
  std::string host;
  std::vector<TopicPartition> partitions;  // assigned to it
};

struct GroupDescription {
  std::string name;
  std::string state;  // Stable, Empty, PreparingRebalance, Dead, ...
  std::vector<GroupMember> members;
};

// The first and one past the last offset of a partition.
struct Watermark {
  int64_t low = 0;
  int64_t high = 0;
};

class KafkaAdmin {
 public:
  static Result<std::unique_ptr<KafkaAdmin>> Create(const std::string& brokers, std::chrono::milliseconds timeout);
  ~KafkaAdmin();

  // Every consumer group the cluster knows, by name.
  Result<std::vector<std::string>> ListGroups();
  Result<GroupDescription> DescribeGroup(const std::string& group);
  // Every partition the group has committed an offset for.
  Result<PartitionOffsets> CommittedOffsets(const std::string& group);
  // Commits `offsets` for the group. Kafka refuses it for topics a live member subscribes to.
  Status AlterOffsets(const std::string& group, const PartitionOffsets& offsets);
  // Per partition of the topic, in partition order.
  Result<std::vector<Watermark>> Watermarks(const std::string& topic);
  // Per partition, the first offset whose message is at or after `ts_ms`; the high watermark when none is.
  Result<std::vector<int64_t>> OffsetsForTime(const std::string& topic, int64_t ts_ms);

 private:
  KafkaAdmin() = default;
  Result<GroupDescription> DescribeGroupOnce(const std::string& group);
  Result<PartitionOffsets> CommittedOffsetsOnce(const std::string& group);
  Status AlterOffsetsOnce(const std::string& group, const PartitionOffsets& offsets);
  rd_kafka_t* rk_ = nullptr;
  int timeout_ms_ = 0;
};

// The watermarks of each partition of `topic` through any handle (ForEachRecord's consumer, KafkaAdmin's).
Status TopicWatermarks(rd_kafka_t* rk, const std::string& topic, int timeout_ms, std::vector<Watermark>* out);

}  // namespace chatpipe
