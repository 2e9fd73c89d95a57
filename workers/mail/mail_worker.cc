#include "workers/mail/mail_worker.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "common/redact.h"

namespace chatpipe::mail {
namespace {

std::string InstanceName() {
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  char nonce[9];
  snprintf(nonce, sizeof nonce, "%08x", static_cast<unsigned>(std::random_device{}()));
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + nonce;
}

}  // namespace

MailWorker::MailWorker(CommonConfig common, MailSettings settings, size_t batch_max, std::string group,
                       ConsumeRange range)
    : common_(std::move(common)),
      settings_(std::move(settings)),
      range_(range.active()),
      outbox_(common_.pg_conninfo),
      intake_(common_, {.worker = "mail", .group = std::move(group), .topics = {kNotifyTopic}, .batch_max = batch_max,
                        .range = range},
              [](const KafkaMessage& m) { return DecodeMention(m.payload); },
              [this](const std::vector<Mention>& mentions) {
                return outbox_.Enqueue(mentions, settings_.window_ms).status();
              }) {}

Status MailWorker::Start() {
  if (Status s = ValidateMailSettings(settings_); !s.ok()) return s;
  auto templates = TemplateSet::LoadDir(settings_.templates_dir);
  if (!templates.ok()) return templates.status();
  templates_ = std::move(*templates);
  for (std::string name : {"mentions", kVerifyTemplate})
    if (!templates_.Has(name))
      return Status::NotFound("templates_not_found", "no \"" + name + "\" template in " + settings_.templates_dir);
  if (Status s = intake_.Start(); !s.ok()) return s;
  std::string instance = InstanceName();
  sender_ = std::make_unique<Sender>(common_, settings_, &templates_, &intake_.dead_letters(), instance);
  spdlog::info("mail: instance {}, window {} ms, rate {}/s (burst {}), quota {} per 24 h, SMTP {}", instance,
               settings_.window_ms, settings_.rate, settings_.burst, settings_.quota, RedactUrl(settings_.smtp_url));
  return Status::Ok();
}

void MailWorker::Run(const std::atomic<bool>& stop) {
  // A range run only records what it reads (idempotent by mention id) and ends: the live mailers send.
  if (range_) {
    intake_.Run(stop);
    return;
  }
  std::thread sender([this, &stop] { sender_->Run(stop); });
  intake_.Run(stop);
  sender.join();
}

}  // namespace chatpipe::mail
