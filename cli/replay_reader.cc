#include "cli/replay_reader.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "queue/kafka.h"

namespace chatpipe {
namespace {

// Messages taken from the queue at once.
constexpr size_t kBatch = 8192;

Status KafkaError(const std::string& what, rd_kafka_resp_err_t err) {
  return Status::Unavailable("queue_unavailable", "Kafka " + what + ": " + rd_kafka_err2str(err));
}

}  // namespace

int64_t ReplayPlan::Total() const {
  int64_t n = 0;
  for (const auto& p : partitions) n += p.end - p.start;
  return n;
}

int64_t ReplayPlan::Done() const {
  int64_t n = 0;
  for (const auto& p : partitions) n += p.next - p.start;
  return n;
}

Result<std::unique_ptr<TopicReplayer>> TopicReplayer::Create(const std::string& brokers, const std::string& topic) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  LogKafkaThroughSpdlog(conf);
  char err[512];
  // No group.id: the partition-assigned consumer needs none, and without one nothing can be joined
  // or committed. Big fetches and a deep prefetch queue keep the broker's answers coming while the
  // writer works; the end of a partition is reported so that a range ending in a compacted gap ends.
  const std::pair<const char*, const char*> settings[] = {
      {"bootstrap.servers", brokers.c_str()},
      {"client.id", "chatpipe-replay"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "true"},
      {"auto.offset.reset", "error"},
      {"fetch.message.max.bytes", "8388608"},
      {"fetch.max.bytes", "67108864"},
      {"queued.min.messages", "1000000"},
      {"queued.max.messages.kbytes", "262144"},
      {"reconnect.backoff.max.ms", "500"},
  };
  for (const auto& [name, value] : settings) {
    if (rd_kafka_conf_set(conf, name, value, err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::InvalidArgument("bad_kafka_config", std::string(name) + ": " + err);
    }
  }
  std::unique_ptr<TopicReplayer> r(new TopicReplayer());
  r->rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!r->rk_) {
    rd_kafka_conf_destroy(conf);
    return Status::Internal(std::string("kafka consumer: ") + err);
  }
  r->rkt_ = rd_kafka_topic_new(r->rk_, topic.c_str(), nullptr);
  r->topic_ = topic;
  return r;
}

TopicReplayer::~TopicReplayer() {
  if (rkt_) rd_kafka_topic_destroy(rkt_);
  if (rk_) rd_kafka_destroy(rk_);
}

int32_t TopicReplayer::PartitionOf(std::string_view key, int32_t partition_count) const {
  return rd_kafka_msg_partitioner_consistent_random(rkt_, key.data(), key.size(), partition_count, nullptr, nullptr);
}

Result<ReplayPlan> TopicReplayer::Plan(const RangeBound& from, const std::optional<RangeBound>& to,
                                       std::chrono::milliseconds timeout) {
  const int timeout_ms = static_cast<int>(timeout.count());
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk_, 0, rkt_, &md, timeout_ms);
  if (err) return KafkaError("metadata", err);
  ReplayPlan plan;
  Status status = Status::Ok();
  if (md->topic_cnt != 1 || md->topics[0].err) {
    status = Status::NotFound("no_topic", "Kafka has no topic " + topic_);
  } else {
    plan.partition_count = md->topics[0].partition_cnt;
    for (int i = 0; i < md->topics[0].partition_cnt; ++i) {
      PartitionRange p;
      p.partition = md->topics[0].partitions[i].id;
      plan.partitions.push_back(p);
    }
  }
  rd_kafka_metadata_destroy(md);
  if (!status.ok()) return status;
  std::sort(plan.partitions.begin(), plan.partitions.end(),
            [](const PartitionRange& a, const PartitionRange& b) { return a.partition < b.partition; });

  // A partition:offset list in --from names the partitions to read; in --to, where they end.
  for (const RangeBound* b : {&from, to ? &*to : nullptr}) {
    if (!b || b->kind != RangeBound::Kind::kOffsets) continue;
    for (const auto& [partition, offset] : b->offsets)
      if (partition >= plan.partition_count)
        return Status::InvalidArgument("bad_range", topic_ + " has no partition " + std::to_string(partition) +
                                                        " (it has " + std::to_string(plan.partition_count) + ")");
  }
  if (from.kind == RangeBound::Kind::kOffsets)
    std::erase_if(plan.partitions, [&](const PartitionRange& p) { return !from.offsets.count(p.partition); });

  for (auto& p : plan.partitions) {
    err = rd_kafka_query_watermark_offsets(rk_, topic_.c_str(), p.partition, &p.low, &p.high, timeout_ms);
    if (err) return KafkaError("offsets", err);
  }

  // Offsets of the first record at or after `time_ms` in each partition; the end where there is none.
  auto for_time = [&](int64_t time_ms, std::map<int32_t, int64_t>* out) -> Status {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(plan.partitions.size()));
    for (const auto& p : plan.partitions)
      rd_kafka_topic_partition_list_add(list, topic_.c_str(), p.partition)->offset = time_ms;
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk_, list, timeout_ms);
    Status s = e ? KafkaError("offsets for times", e) : Status::Ok();
    for (int i = 0; s.ok() && i < list->cnt; ++i) {
      if (list->elems[i].err) s = KafkaError("offsets for times", list->elems[i].err);
      (*out)[list->elems[i].partition] = list->elems[i].offset;
    }
    rd_kafka_topic_partition_list_destroy(list);
    return s;
  };
  auto resolve = [&](const RangeBound& b, std::map<int32_t, int64_t>* out) -> Status {
    if (b.kind == RangeBound::Kind::kTime) return for_time(b.time_ms, out);
    for (const auto& p : plan.partitions) {
      switch (b.kind) {
        case RangeBound::Kind::kEarliest: (*out)[p.partition] = p.low; break;
        case RangeBound::Kind::kLatest: (*out)[p.partition] = p.high; break;
        case RangeBound::Kind::kOffsets: {
          auto it = b.offsets.find(p.partition);
          (*out)[p.partition] = it == b.offsets.end() ? p.high : it->second;
          break;
        }
        case RangeBound::Kind::kTime: break;
      }
    }
    return Status::Ok();
  };
  std::map<int32_t, int64_t> starts, ends;
  if (Status s = resolve(from, &starts); !s.ok()) return s;
  if (Status s = resolve(to ? *to : RangeBound{RangeBound::Kind::kLatest, 0, {}}, &ends); !s.ok()) return s;
  for (auto& p : plan.partitions) {
    int64_t start = starts[p.partition], end = ends[p.partition];
    if (start < 0) start = p.high;  // no record at or after the time
    if (end < 0) end = p.high;
    if (from.kind == RangeBound::Kind::kOffsets && start < p.low)
      spdlog::warn("replay: partition {} keeps offsets from {} on; {}..{} are gone (retention)", p.partition, p.low,
                   start, p.low - 1);
    p.start = std::clamp(start, p.low, p.high);
    p.end = std::clamp(end, p.start, p.high);
    p.next = p.start;
    p.before_retention = from.kind == RangeBound::Kind::kTime && p.low > 0 && p.start == p.low;
  }
  return plan;
}

Result<std::string> TopicReplayer::ReadPayloadAt(int32_t partition, int64_t offset, std::chrono::milliseconds timeout) {
  if (rd_kafka_consume_start(rkt_, partition, offset) == -1) return KafkaError("consume start", rd_kafka_last_error());
  Result<std::string> out = Status::Unavailable("queue_unavailable", "Kafka: no record read from partition " +
                                                                         std::to_string(partition) + " in time");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consume(rkt_, partition, 100);
    if (!m) continue;
    const rd_kafka_resp_err_t e = m->err;
    if (!e) out = std::string(static_cast<const char*>(m->payload), m->len);
    else if (e != RD_KAFKA_RESP_ERR__PARTITION_EOF) out = KafkaError("consume", e);
    rd_kafka_message_destroy(m);
    if (e != RD_KAFKA_RESP_ERR__PARTITION_EOF) break;
  }
  rd_kafka_consume_stop(rkt_, partition);
  return out;
}

Status TopicReplayer::Run(ReplayPlan* plan, const std::function<void(const rd_kafka_message_t&)>& sink,
                          const std::function<void()>& tick, const std::atomic<bool>& stop) {
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk_);
  std::vector<int> index(static_cast<size_t>(plan->partition_count), -1);
  std::vector<bool> reading(plan->partitions.size(), false);
  size_t active = 0;
  Status status = Status::Ok();
  for (size_t i = 0; i < plan->partitions.size() && status.ok(); ++i) {
    PartitionRange& p = plan->partitions[i];
    index[static_cast<size_t>(p.partition)] = static_cast<int>(i);
    if (p.next >= p.end) continue;
    if (rd_kafka_consume_start_queue(rkt_, p.partition, p.next, queue) == -1) {
      status = KafkaError("consume start", rd_kafka_last_error());
      break;
    }
    reading[i] = true;
    ++active;
  }
  auto finish = [&](size_t i) {
    if (!reading[i]) return;
    reading[i] = false;
    --active;
    rd_kafka_consume_stop(rkt_, plan->partitions[i].partition);
  };
  std::vector<rd_kafka_message_t*> batch(kBatch);
  while (status.ok() && active > 0 && !stop.load(std::memory_order_relaxed)) {
    ssize_t n = rd_kafka_consume_batch_queue(queue, 100, batch.data(), batch.size());
    if (n < 0) {
      status = KafkaError("consume", rd_kafka_last_error());
      break;
    }
    for (ssize_t k = 0; k < n; ++k) {
      rd_kafka_message_t* m = batch[static_cast<size_t>(k)];
      int i = m->partition >= 0 && m->partition < plan->partition_count ? index[static_cast<size_t>(m->partition)] : -1;
      if (i >= 0 && reading[static_cast<size_t>(i)]) {
        PartitionRange& p = plan->partitions[static_cast<size_t>(i)];
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          if (m->offset >= p.end) {  // a gap (compaction) up to the end
            p.next = p.end;
            finish(static_cast<size_t>(i));
          }
        } else if (m->err) {
          status = KafkaError("partition " + std::to_string(p.partition), m->err);
          finish(static_cast<size_t>(i));
        } else if (m->offset < p.end) {
          sink(*m);
          p.next = m->offset + 1;
          if (p.next >= p.end) finish(static_cast<size_t>(i));
        } else {
          p.next = p.end;
          finish(static_cast<size_t>(i));
        }
      }
      rd_kafka_message_destroy(m);
    }
    tick();
  }
  for (size_t i = 0; i < reading.size(); ++i) finish(i);
  rd_kafka_queue_destroy(queue);
  return status;
}

}  // namespace chatpipe
