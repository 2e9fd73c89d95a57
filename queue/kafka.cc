#include "queue/kafka.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "common/log.h"
#include "common/metrics.h"
#include "queue/kafka_admin.h"

namespace chatpipe {
namespace {

constexpr const char* kSentHelp = "messages handed to a producer handle (queue/kafka.h)";
Metric& sent_prompt = Counter("chatpipe_kafka_sent_total", kSentHelp, {{"handle", "prompt"}});
Metric& sent_batching = Counter("chatpipe_kafka_sent_total", kSentHelp, {{"handle", "batching"}});
Metric& sent_held = Counter("chatpipe_kafka_held_total",
                            "messages that waited for the prompt handle's reports before going on the batching one");

Result<rd_kafka_conf_t*> MakeConfig(const KafkaConfig& settings) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  LogKafkaThroughSpdlog(conf);
  char err[512];
  for (const auto& [name, value] : settings) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::InvalidArgument("bad_kafka_config", name + ": " + err);
    }
  }
  return conf;
}

// What every client of ours starts from: the brokers, then `settings`, then the caller's `extra`.
KafkaConfig Merge(const std::string& brokers, KafkaConfig settings, const KafkaConfig& extra) {
  settings["bootstrap.servers"] = brokers;
  // While the broker is away each reconnect doubles the wait before the next, up to 10 s by default:
  // a broker back after 3 s was then tried again only once the sends made meanwhile had timed out.
  // Half a second at most, so a broker back within message.timeout.ms delays sends, and consumers
  // resume as soon as it is up.
  settings["reconnect.backoff.max.ms"] = "500";
  for (const auto& [k, v] : extra) settings[k] = v;
  return settings;
}

KafkaMessage Copy(const rd_kafka_message_t* m) {
  KafkaMessage km;
  km.topic = rd_kafka_topic_name(m->rkt);
  km.partition = m->partition;
  km.offset = m->offset;
  if (m->key) km.key.assign(static_cast<const char*>(m->key), m->key_len);
  if (m->payload) km.payload.assign(static_cast<const char*>(m->payload), m->len);
  km.timestamp_ms = rd_kafka_message_timestamp(m, nullptr);
  return km;
}

void CopyHeaders(const rd_kafka_message_t* m, KafkaMessage* km) {
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(m, &hdrs)) return;
  const char* name;
  const void* value;
  size_t size;
  for (size_t i = 0; !rd_kafka_header_get_all(hdrs, i, &name, &value, &size); ++i)
    km->headers.emplace_back(name, std::string(static_cast<const char*>(value), size));
}

// ForEachRecord's read of one partition's `range`. The stall clock restarts after `fn` returns, so a
// slow callback (a retry waiting for the broker's report) is not taken for a stalled read.
Status ReadPartition(rd_kafka_topic_t* rkt, int32_t partition, OffsetRange range, std::chrono::milliseconds stall,
                     const RecordFn& fn) {
  const std::string where = std::string(rd_kafka_topic_name(rkt)) + "/" + std::to_string(partition);
  if (rd_kafka_consume_start(rkt, partition, range.begin) == -1)
    return Status::Unavailable("queue_unavailable",
                               "Kafka: reading " + where + ": " + rd_kafka_err2str(rd_kafka_last_error()));
  Status status = Status::Ok();
  int64_t next = range.begin;
  std::string last_error;  // a fetch's, said when the read stalls
  auto heard = std::chrono::steady_clock::now();
  while (status.ok() && next < range.end) {
    if (std::chrono::steady_clock::now() - heard >= stall) {
      status = Status::Unavailable(
          "queue_unavailable",
          fmt::format("Kafka: nothing read from {} for {:g} s; it got to offset {} of {} (its end when the read "
                      "began){}",
                      where, stall.count() / 1000.0, next, range.end,
                      last_error.empty() ? "" : "; last error: " + last_error));
      break;
    }
    rd_kafka_message_t* m = rd_kafka_consume(rkt, partition, 100);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      // The end of what the partition has: past `range.end` when offsets are missing before it (a
      // transaction's markers, compaction), so no record at range.end - 1 is coming.
      if (m->offset >= range.end) next = range.end;
    } else if (m->err) {
      last_error = rd_kafka_message_errstr(m);
    } else if (m->offset >= range.end) {
      next = range.end;
    } else {
      KafkaMessage km = Copy(m);
      CopyHeaders(m, &km);
      status = fn(km);
      next = m->offset + 1;
      heard = std::chrono::steady_clock::now();
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consume_stop(rkt, partition);
  return status;
}

}  // namespace

void LogKafkaThroughSpdlog(rd_kafka_conf_t* conf) {
  // Levels are syslog's.
  rd_kafka_conf_set_log_cb(conf, [](const rd_kafka_t* rk, int level, const char* facility, const char* text) {
    const auto to = level <= 3 ? spdlog::level::err
                    : level == 4 ? spdlog::level::warn
                    : level <= 6 ? spdlog::level::info
                                 : spdlog::level::debug;
    LogEvent(to, std::string("kafka: ") + text, {{"client", rd_kafka_name(rk)}, {"facility", facility}});
  });
}

// One librdkafka producer and the thread that serves its delivery reports.
struct KafkaProducer::Handle {
  rd_kafka_t* rk = nullptr;
  std::atomic<bool> stopping{false};
  std::thread poller;
  size_t in_flight = 0;  // handed to rk and not reported yet; guarded by the producer's mu_

  static Result<std::unique_ptr<Handle>> Open(const KafkaConfig& settings) {
    auto conf = MakeConfig(settings);
    if (!conf.ok()) return conf.status();
    rd_kafka_conf_set_dr_msg_cb(*conf, &KafkaProducer::OnDelivery);
    char err[512];
    auto h = std::make_unique<Handle>();
    h->rk = rd_kafka_new(RD_KAFKA_PRODUCER, *conf, err, sizeof err);
    if (!h->rk) {
      rd_kafka_conf_destroy(*conf);
      return Status::Internal(std::string("kafka producer: ") + err);
    }
    Handle* raw = h.get();
    h->poller = std::thread([raw] {
      while (!raw->stopping.load(std::memory_order_relaxed)) rd_kafka_poll(raw->rk, 100);
    });
    return h;
  }

  // What the broker has not confirmed by now fails, so that every message gets its one report (and
  // its callback is freed) before the handle goes.
  void Close() {
    if (!rk) return;
    stopping = true;
    if (poller.joinable()) poller.join();
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    for (int i = 0; i < 20 && rd_kafka_outq_len(rk) > 0; ++i) rd_kafka_poll(rk, 50);
    rd_kafka_poll(rk, 0);  // reports that arrived after the poller stopped
    rd_kafka_destroy(rk);
    rk = nullptr;
  }
  ~Handle() { Close(); }
};

// What a message carries through librdkafka to its delivery report.
struct KafkaProducer::Delivery {
  DeliveryFn done;
  KafkaProducer* producer;
  Handle* handle;
};

KafkaProducer::KafkaProducer() = default;

Result<std::unique_ptr<KafkaProducer>> KafkaProducer::Create(const std::string& brokers, const KafkaConfig& extra,
                                                             double prompt_below) {
  const KafkaConfig settings = Merge(brokers,
                                     {{"enable.idempotence", "true"},
                                      {"acks", "all"},
                                      // Short enough for chat latency; at 2 ms the broker thread spun on
                                      // poll() at a few thousand messages a second (bench/README.md).
                                      {"linger.ms", "5"},
                                      // A client waits for the delivery report: give up (and say so) in
                                      // bounded time.
                                      {"message.timeout.ms", "10000"}},
                                     extra);
  std::unique_ptr<KafkaProducer> p(new KafkaProducer());
  auto batching = Handle::Open(settings);
  if (!batching.ok()) return batching.status();
  p->batching_ = std::move(*batching);
  if (prompt_below > 0 && std::strtod(settings.at("linger.ms").c_str(), nullptr) > 0) {
    KafkaConfig prompt = settings;
    prompt["linger.ms"] = "0";
    auto handle = Handle::Open(prompt);
    if (!handle.ok()) return handle.status();
    p->prompt_ = std::move(*handle);
    p->prompt_below_ = prompt_below;
  }
  p->current_ = p->batching_.get();
  return p;
}

KafkaProducer::~KafkaProducer() {
  if (Status s = Flush(std::chrono::seconds(10)); !s.ok()) spdlog::warn("kafka producer: {}", s.ToString());
  // The prompt handle first: its last reports send what waits for it on the batching handle.
  if (prompt_) prompt_->Close();
  if (batching_) batching_->Close();
  for (Held& h : held_) h.done(Status::Unavailable("queue_unavailable", "Kafka: the producer stopped"));
}

void KafkaProducer::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void*) {
  auto* delivery = static_cast<Delivery*>(msg->_private);
  if (!delivery) return;
  if (msg->err)
    delivery->done(Status::Unavailable("queue_unavailable", std::string("Kafka: ") + rd_kafka_err2str(msg->err)));
  else
    delivery->done(Status::Ok());
  delivery->producer->Delivered(delivery->handle);
  delete delivery;
}

void KafkaProducer::Delivered(Handle* from) {
  Failures failed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    --from->in_flight;
    // The move to the batching handle that held messages were waiting for: nothing of the prompt
    // handle's is in flight now, so nothing sent from here on can overtake it.
    if (from == prompt_.get() && from->in_flight == 0 && !held_.empty()) {
      current_ = batching_.get();
      SendHeld(current_, &failed);
    }
  }
  for (auto& [done, status] : failed) done(std::move(status));
}

KafkaProducer::Handle* KafkaProducer::Choose(Failures* failed) {
  // A count decayed by exp(-age / 1 s) is about the rate times a second: no clock tick, no window.
  // A second, not less: at a steady rate near the threshold a shorter memory crosses it with every
  // burst, and each move off the prompt handle waits a round trip (bench/README.md, "latency").
  constexpr double kDecaySeconds = 1.0;
  const auto now = std::chrono::steady_clock::now();
  recent_ = recent_ * std::exp(-std::chrono::duration<double>(now - recent_at_).count() / kDecaySeconds) + 1;
  recent_at_ = now;
  if (!prompt_) return current_;
  // Taken below prompt_below, left only above kLeaveAbove times it.
  const double limit = prompt_below_ * kDecaySeconds * (current_ == prompt_.get() ? kLeaveAbove : 1.0);
  Handle* want = recent_ <= limit ? prompt_.get() : batching_.get();
  if (!held_.empty()) {
    if (want == batching_.get() && held_.size() < kMaxHeld) return nullptr;  // still waiting: wait in line
    // Quiet again, or waiting too long for the prompt handle (a broker away): stay on it.
    SendHeld(current_, failed);
    return current_;
  }
  if (want == current_ || current_->in_flight == 0) return current_ = want;
  // Leaving the prompt handle: wait for its reports. Leaving the batching one: stay until it is empty.
  return current_ == prompt_.get() ? nullptr : current_;
}

void KafkaProducer::Send(Handle* to, const std::string& topic, std::string_view key, std::string_view payload,
                         DeliveryFn done, const std::vector<std::pair<std::string, std::string>>& headers,
                         Failures* failed) {
  auto* delivery = new Delivery{std::move(done), this, to};
  rd_kafka_headers_t* hdrs = nullptr;
  if (!headers.empty()) {
    hdrs = rd_kafka_headers_new(headers.size());
    for (const auto& [k, v] : headers) rd_kafka_header_add(hdrs, k.data(), k.size(), v.data(), v.size());
  }
  rd_kafka_resp_err_t err = rd_kafka_producev(
      to->rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(delivery), RD_KAFKA_V_END);
  if (err) {
    if (hdrs) rd_kafka_headers_destroy(hdrs);  // owned by librdkafka only on success
    failed->emplace_back(std::move(delivery->done),
                         Status::Unavailable("queue_unavailable", std::string("Kafka: ") + rd_kafka_err2str(err)));
    delete delivery;
    return;
  }
  ++to->in_flight;
  (to == prompt_.get() ? sent_prompt : sent_batching).Add();
}

void KafkaProducer::SendHeld(Handle* to, Failures* failed) {
  for (Held& h : held_) Send(to, h.topic, h.key, h.payload, std::move(h.done), h.headers, failed);
  held_.clear();
}

void KafkaProducer::Produce(const std::string& topic, std::string_view key, std::string_view payload,
                            DeliveryFn done, const std::vector<std::pair<std::string, std::string>>& headers) {
  Failures failed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (Handle* to = Choose(&failed)) {
      Send(to, topic, key, payload, std::move(done), headers, &failed);
    } else {
      held_.push_back(Held{topic, std::string(key), std::string(payload), headers, std::move(done)});
      sent_held.Add();
    }
  }
  for (auto& [fn, status] : failed) fn(std::move(status));
}

Status KafkaProducer::Flush(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // The prompt handle first: its last reports send what waits for it on the batching handle.
  for (Handle* h : {prompt_.get(), batching_.get()}) {
    if (!h) continue;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    rd_kafka_resp_err_t err = rd_kafka_flush(h->rk, static_cast<int>(std::max<int64_t>(left.count(), 0)));
    if (err) return Status::Unavailable("queue_unavailable", std::string("Kafka flush: ") + rd_kafka_err2str(err));
  }
  return Status::Ok();
}

int KafkaProducer::QueueLength() const {
  std::lock_guard<std::mutex> lock(mu_);
  int length = static_cast<int>(held_.size()) + rd_kafka_outq_len(batching_->rk);
  return prompt_ ? length + rd_kafka_outq_len(prompt_->rk) : length;
}

Status KafkaProducer::CheckTopic(const std::string& topic, std::chrono::milliseconds timeout) {
  rd_kafka_topic_t* handle = rd_kafka_topic_new(batching_->rk, topic.c_str(), nullptr);
  if (!handle) return Status::Internal(std::string("kafka topic: ") + rd_kafka_err2str(rd_kafka_last_error()));
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(batching_->rk, 0, handle, &md, static_cast<int>(timeout.count()));
  rd_kafka_topic_destroy(handle);
  if (err) return Status::Unavailable("queue_unavailable", std::string("Kafka: ") + rd_kafka_err2str(err));
  Status s = Status::Ok();
  if (md->topic_cnt != 1 || md->topics[0].err) {
    s = Status::Unavailable("queue_unavailable",
                            "Kafka: " + topic + ": " +
                                (md->topic_cnt == 1 ? rd_kafka_err2str(md->topics[0].err) : "not in the metadata"));
  } else {
    for (int i = 0; i < md->topics[0].partition_cnt && s.ok(); ++i) {
      const rd_kafka_metadata_partition_t& p = md->topics[0].partitions[i];
      bool known = false;
      for (int b = 0; b < md->broker_cnt; ++b) known = known || md->brokers[b].id == p.leader;
      if (p.leader < 0 || !known)
        s = Status::Unavailable("queue_unavailable",
                                "Kafka: partition " + std::to_string(p.id) + " of " + topic + " has no leader");
    }
  }
  rd_kafka_metadata_destroy(md);
  return s;
}

Result<std::unique_ptr<BatchConsumer>> BatchConsumer::Create(const std::string& brokers, const std::string& group,
                                                             const std::vector<std::string>& topics,
                                                             const KafkaConfig& extra) {
  auto conf = MakeConfig(Merge(brokers,
                               {{"group.id", group},
                                {"enable.auto.offset.store", "false"},
                                {"enable.auto.commit", "true"},
                                {"auto.commit.interval.ms", "1000"},
                                {"auto.offset.reset", "earliest"},
                                {"enable.partition.eof", "false"},
                                // A worker that dies without leaving the group holds its partitions
                                // until this runs out: 10 s, not the 45 s default, so a crashed
                                // worker's share moves on quickly.
                                {"session.timeout.ms", "10000"},
                                {"heartbeat.interval.ms", "2000"}},
                               extra));
  if (!conf.ok()) return conf.status();
  std::unique_ptr<BatchConsumer> c(new BatchConsumer());
  c->group_ = group;
  rd_kafka_conf_set_rebalance_cb(*conf, &BatchConsumer::OnRebalance);
  rd_kafka_conf_set_opaque(*conf, c.get());
  char err[512];
  c->rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, *conf, err, sizeof err);
  if (!c->rk_) {
    rd_kafka_conf_destroy(*conf);
    return Status::Internal(std::string("kafka consumer: ") + err);
  }
  rd_kafka_poll_set_consumer(c->rk_);
  rd_kafka_topic_partition_list_t* subs = rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
  for (const auto& t : topics) rd_kafka_topic_partition_list_add(subs, t.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk_, subs);
  rd_kafka_topic_partition_list_destroy(subs);
  if (e) return Status::Internal(std::string("kafka subscribe: ") + rd_kafka_err2str(e));
  return c;
}

void BatchConsumer::OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                                void* self) {
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    // The event keeps its words: ops/ and bench/ scripts wait for "assigned [1-9]".
    LogEvent(spdlog::level::info, fmt::format("kafka: assigned {} partitions", parts->cnt),
             {{"group", static_cast<BatchConsumer*>(self)->group_}, {"partitions", parts->cnt}});
    rd_kafka_assign(rk, parts);
    return;
  }
  // Revoked: batches are processed on the polling thread, so none is in flight here. Commit what is
  // stored before the partitions go to another member, so it does not redo them.
  LogEvent(spdlog::level::info, fmt::format("kafka: revoking {} partitions", parts->cnt),
           {{"group", static_cast<BatchConsumer*>(self)->group_}, {"partitions", parts->cnt}});
  rd_kafka_resp_err_t e = rd_kafka_commit(rk, nullptr, 0);
  if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET) spdlog::warn("kafka: commit on revoke: {}", rd_kafka_err2str(e));
  // Should a partition come back after another member moved it on, Lag must not count from here.
  auto& stored = static_cast<BatchConsumer*>(self)->stored_;
  for (int i = 0; i < parts->cnt; ++i) stored.erase({parts->elems[i].topic, parts->elems[i].partition});
  rd_kafka_assign(rk, nullptr);
}

BatchConsumer::~BatchConsumer() { Close(); }

std::vector<KafkaMessage> BatchConsumer::Poll(size_t max, std::chrono::milliseconds timeout,
                                              std::chrono::milliseconds gather) {
  std::vector<KafkaMessage> out;
  std::chrono::steady_clock::time_point gathered_by;  // set by the first message
  while (out.size() < max && rk_) {
    int wait_ms = static_cast<int>(timeout.count());
    if (!out.empty()) {
      // A wait of 0 takes what is ready; librdkafka waits whole milliseconds, so round up.
      auto left = std::chrono::ceil<std::chrono::milliseconds>(gathered_by - std::chrono::steady_clock::now());
      wait_ms = static_cast<int>(std::max<int64_t>(left.count(), 0));
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, wait_ms);
    if (!m) break;
    if (out.empty() && !m->err) gathered_by = std::chrono::steady_clock::now() + gather;
    if (m->err) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        spdlog::warn("kafka consume: {}", rd_kafka_message_errstr(m));
    } else {
      stored_.try_emplace({m->rkt ? rd_kafka_topic_name(m->rkt) : "", m->partition}, m->offset);
      out.push_back(Copy(m));
    }
    rd_kafka_message_destroy(m);
  }
  return out;
}

Status BatchConsumer::Store(const std::vector<KafkaMessage>& done) {
  if (done.empty()) return Status::Ok();
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(done.size()));
  for (const auto& m : done) {
    rd_kafka_topic_partition_list_add(list, m.topic.c_str(), m.partition)->offset = m.offset + 1;
    int64_t& next = stored_[{m.topic, m.partition}];
    next = std::max(next, m.offset + 1);
  }
  rd_kafka_resp_err_t err = rd_kafka_offsets_store(rk_, list);
  rd_kafka_topic_partition_list_destroy(list);
  // A partition revoked since the batch was polled refuses the store; its new owner redoes the batch,
  // which is harmless because every effect is idempotent.
  if (err && err != RD_KAFKA_RESP_ERR__STATE)
    return Status::Internal(std::string("kafka offsets store: ") + rd_kafka_err2str(err));
  return Status::Ok();
}

Status BatchConsumer::CommitSync() {
  rd_kafka_resp_err_t err = rd_kafka_commit(rk_, nullptr, 0);
  if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
    return Status::Unavailable("queue_unavailable", std::string("kafka commit: ") + rd_kafka_err2str(err));
  return Status::Ok();
}

int64_t BatchConsumer::Lag() const {
  rd_kafka_topic_partition_list_t* parts = nullptr;
  if (!rk_ || rd_kafka_assignment(rk_, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR) return 0;
  int64_t lag = 0;
  for (int i = 0; i < parts->cnt; ++i) {
    const rd_kafka_topic_partition_t& p = parts->elems[i];
    auto done = stored_.find({p.topic, p.partition});
    int64_t low = -1, high = -1;
    if (done == stored_.end() ||
        rd_kafka_get_watermark_offsets(rk_, p.topic, p.partition, &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR)
      continue;
    lag += std::max<int64_t>(0, high - done->second);
  }
  rd_kafka_topic_partition_list_destroy(parts);
  return lag;
}

void BatchConsumer::Close() {
  std::lock_guard<std::mutex> lock(close_mu_);
  if (!rk_) return;
  if (Status s = CommitSync(); !s.ok()) spdlog::warn("{}", s.ToString());
  rd_kafka_consumer_close(rk_);
  rd_kafka_destroy(rk_);
  rk_ = nullptr;
}

Status BatchConsumer::CheckJoined(std::chrono::milliseconds timeout) {
  std::lock_guard<std::mutex> lock(close_mu_);
  if (!rk_) return Status::Unavailable("queue_unavailable", "Kafka: the consumer has left its group");
  // No topic named, none asked for: the topics this consumer knows, or only the brokers.
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk_, 0, nullptr, &md, static_cast<int>(timeout.count()));
  if (err) return Status::Unavailable("queue_unavailable", std::string("Kafka: ") + rd_kafka_err2str(err));
  rd_kafka_metadata_destroy(md);
  char* member = rd_kafka_memberid(rk_);
  const bool joined = member && *member;
  if (member) rd_kafka_mem_free(rk_, member);
  if (!joined) return Status::Unavailable("queue_unavailable", "Kafka: not in its consumer group yet");
  return Status::Ok();
}

Status ForEachRecord(const std::string& brokers, const std::string& topic, const ReadOptions& options,
                     const RecordFn& fn) {
  // librdkafka's per-partition (legacy) consumer: no group.id, so nothing is joined or committed, and
  // one partition is fetched at a time. Its prefetch is bounded: 32 MB queued and 4 MB a fetch, where
  // the defaults are 64 MB and 50 MB. Not less, because once its queue is full librdkafka 2.0 waits a
  // whole second before fetching again (2.1 made that fetch.queue.backoff.ms): a reader slower than
  // the network (a retry waits for the broker on each letter) gets at least the queue each second,
  // ~35 letters of 900 KB. A start already gone to retention (the topic's start moved since the
  // watermarks were taken) reads on from the new start.
  auto conf = MakeConfig(Merge(brokers,
                               {{"enable.auto.commit", "false"},
                                {"enable.auto.offset.store", "false"},
                                {"enable.partition.eof", "true"},
                                {"auto.offset.reset", "earliest"},
                                {"queued.max.messages.kbytes", "32768"},
                                {"fetch.message.max.bytes", "4194304"},
                                {"fetch.max.bytes", "4194304"}},
                               {}));
  if (!conf.ok()) return conf.status();
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, *conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(*conf);
    return Status::Internal(std::string("kafka consumer: ") + err);
  }
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  std::vector<Watermark> marks;
  Status status = TopicWatermarks(rk, topic, static_cast<int>(options.stall.count()), &marks);
  for (size_t p = 0; p < marks.size() && status.ok(); ++p) {
    OffsetRange range{marks[p].low, marks[p].high};
    if (options.last > 0) range.begin = std::max(range.begin, range.end - options.last);
    if (!options.partitions.empty()) {
      auto only = options.partitions.find(static_cast<int32_t>(p));
      if (only == options.partitions.end()) continue;
      range.begin = std::max(range.begin, only->second.begin);
      range.end = std::min(range.end, only->second.end);
    }
    if (range.begin < range.end) status = ReadPartition(rkt, static_cast<int32_t>(p), range, options.stall, fn);
  }
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  return status;
}

Result<std::vector<KafkaMessage>> ReadTopic(const std::string& brokers, const std::string& topic) {
  std::vector<KafkaMessage> out;
  Status s = ForEachRecord(brokers, topic, ReadOptions(), [&out](const KafkaMessage& m) {
    out.push_back(m);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Status CreateTopics(const std::string& brokers, const std::vector<TopicSpec>& topics,
                    std::chrono::milliseconds timeout) {
  auto conf = MakeConfig({{"bootstrap.servers", brokers}});
  if (!conf.ok()) return conf.status();
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, *conf, err, sizeof err);
  if (!rk) return Status::Internal(std::string("kafka admin: ") + err);
  std::vector<rd_kafka_NewTopic_t*> specs;
  for (const auto& t : topics) {
    rd_kafka_NewTopic_t* spec = rd_kafka_NewTopic_new(t.name.c_str(), t.partitions, t.replication, err, sizeof err);
    if (!spec) {
      rd_kafka_NewTopic_destroy_array(specs.data(), specs.size());
      rd_kafka_destroy(rk);
      return Status::InvalidArgument("bad_topic", "topic " + t.name + ": " + err);
    }
    specs.push_back(spec);
    // All but one replica must have a write before acks=all reports it: one broker may be lost.
    const std::string min_insync = std::to_string(std::max(1, t.replication - 1));
    rd_kafka_NewTopic_set_config(specs.back(), "min.insync.replicas", min_insync.c_str());
  }
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(opts, static_cast<int>(timeout.count()), err, sizeof err);
  rd_kafka_AdminOptions_set_request_timeout(opts, static_cast<int>(timeout.count()), err, sizeof err);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, specs.data(), specs.size(), opts, queue);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, static_cast<int>(timeout.count()) + 1000);
  Status status = Status::Ok();
  if (!ev) {
    status = Status::Unavailable("queue_unavailable", "Kafka: no answer to CreateTopics");
  } else if (rd_kafka_event_error(ev)) {
    status = Status::Unavailable("queue_unavailable", std::string("Kafka: ") + rd_kafka_event_error_string(ev));
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n && status.ok(); ++i) {
      rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[i]);
      if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        status = Status::Internal(std::string("create topic ") + rd_kafka_topic_result_name(results[i]) + ": " +
                                  rd_kafka_err2str(e));
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(queue);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_NewTopic_destroy_array(specs.data(), specs.size());
  rd_kafka_destroy(rk);
  return status;
}

}  // namespace chatpipe
