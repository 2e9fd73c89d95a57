// MailWorker: the `mail` consumer group, `chatpipe worker mail`. E-mails users the mentions they missed.
//
// Two threads, each with its own connections:
//   intake   the worker's ConsumeLoop (workers/consume) on chat.notify: decodes each event
//            (DecodeMention) and records each batch in PostgreSQL (Outbox::Enqueue: one statement,
//            idempotent on the mention id, a user's mentions join their open outbox row whose due time
//            is the end of the batching window); the loop stores the batch's Kafka offsets only then.
//            A crash before that replays the batch onto the same rows. An event that cannot be decoded
//            or recorded goes to the dead-letter topic with the reason.
//   sender   sends due outbox rows through the SES-like mailer (sender.h: the guarantees). Its dead
//            letters go through the intake loop's DeadLetters.
// Every state, including the window's due time, is in PostgreSQL and Redis: any number of these
// processes may run, be killed and be restarted.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "common/config.h"
#include "workers/consume/consume_loop.h"
#include "workers/mail/mail_settings.h"
#include "workers/mail/notify_event.h"
#include "workers/mail/outbox.h"
#include "workers/mail/sender.h"
#include "workers/mail/template.h"

namespace chatpipe::mail {

class MailWorker {
 public:
  // `group` (before namespacing) and `range`: a range run (workers/consume) instead of the live group.
  MailWorker(CommonConfig common, MailSettings settings, size_t batch_max, std::string group = "mail",
             ConsumeRange range = {});
  // Checks the settings, loads the templates (the "mentions" one must exist), joins the group.
  Status Start();
  // Runs intake here and the sender on a second thread until `stop`; returns once both are done. A
  // range run runs intake alone, until its end: it records into the outbox, the live mailers send.
  void Run(const std::atomic<bool>& stop);
  // Its consumer's readiness (ConsumeCore::CheckKafka): from any thread, after Start().
  Status CheckKafka(std::chrono::milliseconds timeout) { return intake_.CheckKafka(timeout); }

 private:
  CommonConfig common_;
  MailSettings settings_;
  bool range_ = false;
  TemplateSet templates_;
  Outbox outbox_;
  ConsumeLoop<Mention> intake_;  // after outbox_: its apply step records there
  std::unique_ptr<Sender> sender_;
};

}  // namespace chatpipe::mail
