#include "workers/mail/mail_worker.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "common/metrics.h"
#include "workers/mail/dead_letters.h"

namespace chatpipe::mail {
namespace {

Metric& recorded = Counter("chatpipe_mail_mentions_total", "chat.notify events recorded (new or replayed)");
Metric& intake_retries = Counter("chatpipe_mail_intake_retries_total", "intake batches that failed and were retried");

std::string InstanceName() {
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  char nonce[9];
  snprintf(nonce, sizeof nonce, "%08x", static_cast<unsigned>(std::random_device{}()));
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + nonce;
}

}  // namespace

MailWorker::MailWorker(CommonConfig common, MailSettings settings, size_t batch_max)
    : common_(std::move(common)),
      settings_(std::move(settings)),
      batch_max_(batch_max),
      outbox_(common_.pg_conninfo) {}

Status MailWorker::Start() {
  if (Status s = ValidateMailSettings(settings_); !s.ok()) return s;
  auto templates = TemplateSet::LoadDir(settings_.templates_dir);
  if (!templates.ok()) return templates.status();
  templates_ = std::move(*templates);
  if (!templates_.Has("mentions"))
    return Status::NotFound("templates_not_found", "no \"mentions\" template in " + settings_.templates_dir);
  auto consumer = BatchConsumer::Create(common_.kafka_brokers, common_.Group("mail"), {common_.Topic(kNotifyTopic)});
  if (!consumer.ok()) return consumer.status();
  consumer_ = std::move(*consumer);
  auto producer = KafkaProducer::Create(common_.kafka_brokers);
  if (!producer.ok()) return producer.status();
  dead_letters_ = std::move(*producer);
  std::string instance = InstanceName();
  sender_ = std::make_unique<Sender>(common_, settings_, &templates_, dead_letters_.get(), instance);
  spdlog::info("mail: instance {}, window {} ms, rate {}/s (burst {}), quota {} per 24 h, SMTP {}", instance,
               settings_.window_ms, settings_.rate, settings_.burst, settings_.quota, settings_.smtp_url);
  return Status::Ok();
}

void MailWorker::Run(const std::atomic<bool>& stop) {
  std::thread sender([this, &stop] { sender_->Run(stop); });
  RunIntake(stop);
  sender.join();
  consumer_->Close();
}

void MailWorker::RunIntake(const std::atomic<bool>& stop) {
  while (!stop) {
    std::vector<KafkaMessage> batch = consumer_->Poll(batch_max_, std::chrono::milliseconds(100));
    if (batch.empty()) continue;
    if (!Record(batch, stop)) return;  // nothing stored: the batch is redone by the partition's next owner
    if (Status s = consumer_->Store(batch); !s.ok()) spdlog::warn("mail: {}", s.ToString());
  }
}

bool MailWorker::Record(const std::vector<KafkaMessage>& batch, const std::atomic<bool>& stop) {
  const std::string topic = common_.Topic(kDeadLetterTopic);
  std::vector<Mention> mentions;
  std::vector<const KafkaMessage*> from;
  for (const auto& msg : batch) {
    auto m = DecodeMention(msg.payload);
    if (m.ok()) {
      mentions.push_back(std::move(*m));
      from.push_back(&msg);
      continue;
    }
    spdlog::error("mail: dead-lettering an event: {}", m.status().detail());
    if (!ProduceDeadLetter(dead_letters_.get(), topic, msg.key, msg.payload, m.status().detail(), stop).ok())
      return false;
  }
  auto backoff = std::chrono::milliseconds(50);
  for (;;) {
    auto added = outbox_.Enqueue(mentions, settings_.window_ms);
    Status s = added.status();
    if (!s.ok() && !IsRetriable(s)) s = RecordOneByOne(mentions, from, stop);
    if (s.ok()) break;
    intake_retries.Add();
    spdlog::warn("mail: batch of {} not recorded, retrying in {} ms: {}", mentions.size(), backoff.count(),
                 s.ToString());
    if (stop) return false;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
  recorded.Add(static_cast<int64_t>(mentions.size()));
  return true;
}

// The batch was refused as a whole: record events one at a time and dead-letter the ones refused.
Status MailWorker::RecordOneByOne(const std::vector<Mention>& mentions, const std::vector<const KafkaMessage*>& from,
                                  const std::atomic<bool>& stop) {
  for (size_t i = 0; i < mentions.size(); ++i) {
    auto added = outbox_.Enqueue({mentions[i]}, settings_.window_ms);
    if (added.ok()) continue;
    if (IsRetriable(added.status())) return added.status();
    spdlog::error("mail: dead-lettering an event: {}", added.status().detail());
    Status s = ProduceDeadLetter(dead_letters_.get(), common_.Topic(kDeadLetterTopic), from[i]->key, from[i]->payload,
                                 added.status().detail(), stop);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace chatpipe::mail
