#include "workers/persist/persister.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <thread>

#include "common/metrics.h"
#include "storage/redis_keys.h"

namespace chatpipe {
namespace {

Metric& persisted = Counter("chatpipe_persist_messages_total", "chat events stored (new or already there)");
Metric& batches = Counter("chatpipe_persist_batches_total", "batches applied");
Metric& retries = Counter("chatpipe_persist_retries_total", "batch attempts that failed and were retried");
Metric& dead = Counter("chatpipe_persist_dead_letters_total", "events sent to the dead-letter topic");

StoredMessage RowToMessage(const PgResult& r, int row) {
  // Columns of `messages`: id, room_id, pos, user_id, user_name, body, ts, client_msg_id.
  StoredMessage m;
  m.event.id = std::strtoull(std::string(r.Text(row, 0)).c_str(), nullptr, 10);
  m.event.room = r.Int(row, 1);
  m.pos = r.Int(row, 2);
  m.event.user = {r.Int(row, 3), std::string(r.Text(row, 4))};
  m.event.text = std::string(r.Text(row, 5));
  m.event.ts_ms = r.Int(row, 6);
  if (!r.IsNull(row, 7)) m.event.client_msg_id = std::string(r.Text(row, 7));
  return m;
}

bool Retriable(const Status& s) { return s.code() == "db_unavailable" || s.code() == "redis_unavailable"; }

}  // namespace

Persister::Persister(CommonConfig config, size_t batch_max)
    : config_(std::move(config)),
      batch_max_(batch_max),
      pg_(config_.pg_conninfo),
      redis_(config_.RedisHost(), config_.RedisPort()) {}

Status Persister::Start() {
  auto consumer = BatchConsumer::Create(config_.kafka_brokers, config_.Group("persist"),
                                        {config_.Topic(kMessagesTopic)});
  if (!consumer.ok()) return consumer.status();
  consumer_ = std::move(*consumer);
  auto producer = KafkaProducer::Create(config_.kafka_brokers);
  if (!producer.ok()) return producer.status();
  dead_letters_ = std::move(*producer);
  return Status::Ok();
}

Status Persister::StoreInDatabase(const std::vector<ChatEvent>& events, std::vector<StoredMessage>* stored) {
  std::string batch = "[";
  for (const auto& e : events) {
    if (batch.size() > 1) batch += ',';
    batch += EncodeChatEvent(e);
  }
  batch += ']';
  auto rows = pg_.Exec("SELECT * FROM chat_persist($1::jsonb)", {batch});
  if (!rows.ok()) return rows.status();
  stored->clear();
  for (int i = 0; i < rows->rows(); ++i) stored->push_back(RowToMessage(*rows, i));
  return Status::Ok();
}

Status Persister::PublishToRedis(const std::vector<StoredMessage>& stored) {
  const std::string prefix = config_.RedisPrefix();
  for (const auto& m : stored) {
    std::string frame = EncodeMessageFrame(m);
    redis_.AppendScript(kHistoryPushScript, {RoomHistoryKey(prefix, m.event.room)},
                        {std::to_string(m.pos), frame, std::to_string(kHistoryCap)});
    redis_.Append({"PUBLISH", RoomChannel(prefix, m.event.room), std::move(frame)});
  }
  std::vector<RedisReply> replies;
  if (Status s = redis_.Flush(&replies); !s.ok()) return s;
  for (const auto& r : replies)
    if (r.type == REDIS_REPLY_ERROR) return Status::Unavailable("redis_unavailable", "Redis: " + r.str);
  return Status::Ok();
}

Status Persister::Apply(const std::vector<ChatEvent>& events, std::vector<StoredMessage>* stored) {
  if (events.empty()) return Status::Ok();
  Status s = StoreInDatabase(events, stored);
  if (!s.ok() && !Retriable(s)) s = ApplyOneByOne(events, stored);
  if (!s.ok()) return s;
  return PublishToRedis(*stored);
}

// The batch was refused as a whole: store events one at a time and dead-letter the ones refused.
Status Persister::ApplyOneByOne(const std::vector<ChatEvent>& events, std::vector<StoredMessage>* stored) {
  stored->clear();
  for (const auto& e : events) {
    std::vector<StoredMessage> one;
    Status s = StoreInDatabase({e}, &one);
    if (Retriable(s)) return s;
    if (!s.ok()) {
      DeadLetter(EncodeChatEvent(e), std::to_string(e.room), s.reason());
      continue;
    }
    stored->insert(stored->end(), one.begin(), one.end());
  }
  return Status::Ok();
}

void Persister::DeadLetter(const std::string& payload, const std::string& key, const std::string& reason) {
  spdlog::error("persist: dead-lettering an event: {}", reason);
  // Wait for the broker: the event's offset is committed right after, so the dead letter must be safe.
  for (;;) {
    std::promise<Status> delivered;
    dead_letters_->Produce(config_.Topic(kDeadLetterTopic), key, payload,
                           [&delivered](Status s) { delivered.set_value(s); },
                           {{"reason", reason}, {"source", "persist"}});
    Status s = delivered.get_future().get();
    if (s.ok()) break;
    spdlog::warn("persist: dead letter not delivered, retrying: {}", s.ToString());
  }
  dead.Add();
}

void Persister::Run(const std::atomic<bool>& stop) {
  while (!stop) {
    std::vector<KafkaMessage> batch = consumer_->Poll(batch_max_, std::chrono::milliseconds(100));
    if (batch.empty()) continue;
    std::vector<ChatEvent> events;
    for (const auto& m : batch) {
      auto e = DecodeChatEvent(m.payload);
      if (e.ok())
        events.push_back(std::move(*e));
      else
        DeadLetter(m.payload, m.key, e.status().reason());
    }
    std::vector<StoredMessage> stored;
    auto backoff = std::chrono::milliseconds(50);
    Status s;
    while (!(s = Apply(events, &stored)).ok()) {
      retries.Add();
      spdlog::warn("persist: batch of {} not applied, retrying in {} ms: {}", events.size(), backoff.count(),
                   s.ToString());
      if (stop) return;  // nothing stored: the batch is redone by whoever owns the partition next
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
    }
    if (Status st = consumer_->Store(batch); !st.ok()) spdlog::warn("persist: {}", st.ToString());
    persisted.Add(static_cast<int64_t>(stored.size()));
    batches.Add();
  }
  consumer_->Close();
}

}  // namespace chatpipe
