#include "workers/batch/batch_worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <thread>

namespace chatpipe {

BatchWorker::BatchWorker(CommonConfig config, std::string name, std::string group, size_t batch_max)
    : config_(std::move(config)),
      name_(std::move(name)),
      group_(std::move(group)),
      batch_max_(batch_max),
      events_(Counter("chatpipe_" + name_ + "_events_total", "chat events applied")),
      batches_(Counter("chatpipe_" + name_ + "_batches_total", "batches applied")),
      retries_(Counter("chatpipe_" + name_ + "_retries_total", "batch attempts that failed and were retried")),
      dead_(Counter("chatpipe_" + name_ + "_dead_letters_total", "events sent to the dead-letter topic")) {}

bool BatchWorker::Retriable(const Status& s) {
  return IsRetriable(s);
}

Status BatchWorker::Start() {
  auto consumer =
      BatchConsumer::Create(config_.kafka_brokers, config_.Group(group_), {config_.Topic(kMessagesTopic)});
  if (!consumer.ok()) return consumer.status();
  consumer_ = std::move(*consumer);
  auto producer = KafkaProducer::Create(config_.kafka_brokers);
  if (!producer.ok()) return producer.status();
  dead_letters_ = std::move(*producer);
  return Status::Ok();
}

void BatchWorker::DeadLetter(const std::string& payload, const std::string& key, const std::string& reason) {
  spdlog::error("{}: dead-lettering an event: {}", name_, reason);
  // Wait for the broker: the event's offset is stored right after, so the dead letter must be safe.
  for (;;) {
    std::promise<Status> delivered;
    dead_letters_->Produce(config_.Topic(kDeadLetterTopic), key, payload,
                           [&delivered](Status s) { delivered.set_value(s); },
                           {{"reason", reason}, {"source", name_}});
    Status s = delivered.get_future().get();
    if (s.ok()) break;
    spdlog::warn("{}: dead letter not delivered, retrying: {}", name_, s.ToString());
  }
  dead_.Add();
}

Status BatchWorker::ApplyOneByOne(const std::vector<ChatEvent>& events, const ApplyFn& apply) {
  for (const auto& e : events) {
    Status s = apply({e});
    if (Retriable(s)) return s;
    if (!s.ok()) DeadLetter(EncodeChatEvent(e), std::to_string(e.room), s.ToString());
  }
  return Status::Ok();
}

bool BatchWorker::ApplyWithRetry(const std::vector<ChatEvent>& events, const std::atomic<bool>& stop,
                                 const ApplyFn& apply) {
  auto backoff = std::chrono::milliseconds(50);
  for (;;) {
    Status s = apply(events);
    if (!s.ok() && !Retriable(s)) s = ApplyOneByOne(events, apply);
    if (s.ok()) return true;
    retries_.Add();
    spdlog::warn("{}: batch of {} not applied, retrying in {} ms: {}", name_, events.size(), backoff.count(),
                 s.ToString());
    if (stop) return false;  // nothing stored: the batch is redone by whoever owns the partition next
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

void BatchWorker::Run(const std::atomic<bool>& stop, const ApplyFn& apply) {
  while (!stop) {
    std::vector<KafkaMessage> batch = consumer_->Poll(batch_max_, std::chrono::milliseconds(100));
    if (batch.empty()) continue;
    std::vector<ChatEvent> events;
    for (const auto& m : batch) {
      auto e = DecodeChatEvent(m.payload);
      if (e.ok())
        events.push_back(std::move(*e));
      else
        DeadLetter(m.payload, m.key, e.status().detail());
    }
    if (!events.empty() && !ApplyWithRetry(events, stop, apply)) break;
    if (Status st = consumer_->Store(batch); !st.ok()) spdlog::warn("{}: {}", name_, st.ToString());
    events_.Add(static_cast<int64_t>(events.size()));
    batches_.Add();
  }
  consumer_->Close();
}

}  // namespace chatpipe
