#include "workers/consume/consume_loop.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "common/log.h"
#include "common/message_id.h"
#include "queue/kafka_admin.h"
#include "workers/consume/pause.h"

namespace chatpipe {

Result<ChatEvent> DecodeChatMessage(const KafkaMessage& m) { return DecodeChatEvent(m.payload); }

ConsumeCore::ConsumeCore(CommonConfig config, ConsumeOptions options, Steps steps)
    : config_(std::move(config)),
      options_(std::move(options)),
      steps_(std::move(steps)),
      metrics_(WorkerMetrics::For(options_.worker)) {}

Status ConsumeCore::Start() {
  std::vector<std::string> topics;
  for (const auto& t : options_.topics) topics.push_back(config_.Topic(t));
  if (options_.range.active())
    if (Status s = StartRange(config_.Group(options_.group), topics); !s.ok()) return s;
  // Names the member in `chatpipe groups`: which worker, which process (the broker adds the host).
  const std::string client_id = "chatpipe-" + options_.worker + "-" + std::to_string(getpid());
  auto consumer =
      BatchConsumer::Create(config_.kafka_brokers, config_.Group(options_.group), topics, {{"client.id", client_id}});
  if (!consumer.ok()) return consumer.status();
  consumer_ = std::move(*consumer);
  const std::string& brokers =
      options_.dead_letter_brokers.empty() ? config_.kafka_brokers : options_.dead_letter_brokers;
  auto producer = KafkaProducer::Create(brokers);
  if (!producer.ok()) return producer.status();
  producer_ = std::move(*producer);
  dead_letters_ = std::make_unique<DeadLetters>(producer_.get(), config_.Topic(kDeadLetterTopic), options_.worker);
  return Status::Ok();
}

Status ConsumeCore::StartRange(const std::string& group, const std::vector<std::string>& topics) {
  auto admin = KafkaAdmin::Create(config_.kafka_brokers, std::chrono::seconds(30));
  if (!admin.ok()) return admin.status();
  auto committed = (*admin)->CommittedOffsets(group);
  if (!committed.ok()) return committed.status();
  PartitionOffsets start, fresh;
  for (const auto& topic : topics) {
    auto marks = (*admin)->Watermarks(topic);
    if (!marks.ok()) return marks.status();
    std::vector<int64_t> from, to;
    if (options_.range.from_ms >= 0) {
      auto f = (*admin)->OffsetsForTime(topic, options_.range.from_ms);
      if (!f.ok()) return f.status();
      from = std::move(*f);
    }
    if (options_.range.to_ms >= 0) {
      auto t = (*admin)->OffsetsForTime(topic, options_.range.to_ms);
      if (!t.ok()) return t.status();
      to = std::move(*t);
    }
    for (size_t p = 0; p < marks->size(); ++p) {
      const TopicPartition tp{topic, static_cast<int32_t>(p)};
      const int64_t first = from.empty() ? (*marks)[p].low : from[p];
      auto c = committed->find(tp);
      start[tp] = c != committed->end() && c->second >= 0 ? c->second : first;
      if (c == committed->end() || c->second < 0) fresh[tp] = first;
      if (!to.empty() && start[tp] < to[p]) range_ends_[tp] = to[p];
    }
  }
  // Committed before joining, so the group's first assignment starts there.
  if (options_.range.from_ms >= 0)
    if (Status s = (*admin)->AlterOffsets(group, fresh); !s.ok()) return s;
  int64_t to_go = 0;
  for (const auto& [tp, end] : range_ends_) to_go += end - start[tp];
  spdlog::info("{}: range run in group {}: {} partition(s) placed at the start, {} resumed, {} event(s) to go{}",
               options_.worker, group, fresh.size(), start.size() - fresh.size(), to_go,
               options_.range.to_ms >= 0 ? "" : " (no end: runs until stopped)");
  return Status::Ok();
}

void ConsumeCore::ClipToRange(std::vector<KafkaMessage>& batch) {
  std::erase_if(batch, [this](const KafkaMessage& m) {
    auto end = range_ends_.find({m.topic, m.partition});
    return end == range_ends_.end() || m.offset >= end->second;
  });
}

void ConsumeCore::Run(const std::atomic<bool>& stop) {
  const bool bounded = options_.range.to_ms >= 0;
  const auto started = std::chrono::steady_clock::now();
  while (!stop && !RangeDone()) {
    std::vector<KafkaMessage> batch = consumer_->Poll(options_.batch_max, std::chrono::milliseconds(100), options_.gather);
    NoteLag();
    std::vector<KafkaMessage> polled;  // a range run's whole batch, to learn which partitions are done
    if (bounded) {
      polled = batch;
      ClipToRange(batch);
    }
    if (!batch.empty()) {
      if (!options_.range.active()) NoteTimeInKafka(batch);  // a range run reads the past
      if (!Process(batch, stop)) break;  // nothing stored: the batch is redone by the partition's next owner
      if (Status s = consumer_->Store(batch); !s.ok())
        spdlog::warn("{}: {}", options_.worker, s.ToString());
      else
        LogEvent(spdlog::level::debug, "batch_stored",
                 {{"group", options_.group}, {"events", batch.size()}, {"topic", batch.back().topic},
                  {"partition", batch.back().partition}, {"offset", batch.back().offset}});
      metrics_.batches.Add();
      range_events_ += static_cast<int64_t>(batch.size());
    }
    for (const auto& m : polled) {
      auto end = range_ends_.find({m.topic, m.partition});
      if (end != range_ends_.end() && m.offset + 1 >= end->second) range_ends_.erase(end);
    }
  }
  consumer_->Close();
  if (RangeDone())
    spdlog::info("{}: range run done: {} event(s) in {} ms", options_.worker, range_events_,
                 std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
}

void ConsumeCore::NoteTimeInKafka(const std::vector<KafkaMessage>& batch) {
  const int64_t now_ms = static_cast<int64_t>(NowMs());
  for (const auto& m : batch)
    if (m.timestamp_ms > 0) metrics_.in_kafka.Observe((now_ms - m.timestamp_ms) * 1000);
}

void ConsumeCore::NoteLag() {
  const auto now = std::chrono::steady_clock::now();
  if (now - lag_noted_ < std::chrono::seconds(1)) return;
  lag_noted_ = now;
  metrics_.lag.Set(consumer_->Lag());
}

bool ConsumeCore::RangeDone() const { return options_.range.to_ms >= 0 && range_ends_.empty(); }

bool ConsumeCore::Process(const std::vector<KafkaMessage>& batch, const std::atomic<bool>& stop) {
  steps_.clear();
  std::vector<const KafkaMessage*> sources;  // the message each kept event came from
  for (const auto& m : batch) {
    Status s = steps_.decode(m);
    if (s.ok())
      sources.push_back(&m);
    else if (!dead_letters_->Send(m.key, m.payload, s.detail(), stop, &m).ok())
      return false;
  }
  if (!sources.empty() && !ApplyWithRetry(sources, stop)) return false;
  metrics_.events.Add(static_cast<int64_t>(sources.size()));
  return true;
}

bool ConsumeCore::ApplyWithRetry(const std::vector<const KafkaMessage*>& sources, const std::atomic<bool>& stop) {
  auto backoff = std::chrono::milliseconds(50);
  // Once the batch was refused as a whole it goes one event at a time, and a retry resumes at the
  // event a passing failure stopped on: the events before it were applied or dead-lettered already,
  // and dead-lettering one again on every retry would repeat it for as long as the failure lasts.
  std::optional<size_t> one_by_one;
  for (;;) {
    Status s;
    if (!one_by_one) {
      const auto started = std::chrono::steady_clock::now();
      s = steps_.apply(0, sources.size());
      if (s.ok()) metrics_.apply.Observe(std::chrono::steady_clock::now() - started, static_cast<int64_t>(sources.size()));
      if (!s.ok() && !IsRetriable(s)) one_by_one = 0;
    }
    if (one_by_one) s = ApplyOneByOne(sources, stop, &*one_by_one);
    if (s.ok()) return true;
    metrics_.retries.Add();
    LogEvent(spdlog::level::warn, "batch_retried",
             {{"group", options_.group}, {"events", sources.size()}, {"retry_in_ms", backoff.count()},
              {"error", s.ToString()}});
    NoteLag();
    if (!PauseUnlessStopped(backoff, stop)) return false;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

// The batch was refused as a whole: apply the events one at a time and dead-letter those refused.
Status ConsumeCore::ApplyOneByOne(const std::vector<const KafkaMessage*>& sources, const std::atomic<bool>& stop,
                                  size_t* next) {
  for (; *next < sources.size(); ++*next) {
    const KafkaMessage& m = *sources[*next];
    Status s = steps_.apply(*next, 1);
    if (s.ok()) continue;
    if (IsRetriable(s)) return s;
    if (Status d = dead_letters_->Send(m.key, m.payload, s.ToString(), stop, &m); !d.ok()) return d;
  }
  return Status::Ok();
}

}  // namespace chatpipe
