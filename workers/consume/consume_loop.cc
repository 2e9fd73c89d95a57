#include "workers/consume/consume_loop.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

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
  auto consumer = BatchConsumer::Create(config_.kafka_brokers, config_.Group(options_.group), topics);
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

void ConsumeCore::Run(const std::atomic<bool>& stop) {
  while (!stop) {
    std::vector<KafkaMessage> batch = consumer_->Poll(options_.batch_max, std::chrono::milliseconds(100));
    if (batch.empty()) continue;
    if (!Process(batch, stop)) break;  // nothing stored: the batch is redone by the partition's next owner
    if (Status s = consumer_->Store(batch); !s.ok()) spdlog::warn("{}: {}", options_.worker, s.ToString());
    metrics_.batches.Add();
  }
  consumer_->Close();
}

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
  for (;;) {
    Status s = steps_.apply(0, sources.size());
    if (!s.ok() && !IsRetriable(s)) s = ApplyOneByOne(sources, stop);
    if (s.ok()) return true;
    metrics_.retries.Add();
    spdlog::warn("{}: batch of {} not applied (again in {} ms unless stopping): {}", options_.worker, sources.size(),
                 backoff.count(), s.ToString());
    if (!PauseUnlessStopped(backoff, stop)) return false;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

// The batch was refused as a whole: apply the events one at a time and dead-letter those refused.
Status ConsumeCore::ApplyOneByOne(const std::vector<const KafkaMessage*>& sources, const std::atomic<bool>& stop) {
  for (size_t i = 0; i < sources.size(); ++i) {
    Status s = steps_.apply(i, 1);
    if (s.ok()) continue;
    if (IsRetriable(s)) return s;
    if (Status d = dead_letters_->Send(sources[i]->key, sources[i]->payload, s.ToString(), stop, sources[i]); !d.ok())
      return d;
  }
  return Status::Ok();
}

}  // namespace chatpipe
