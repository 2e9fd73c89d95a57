// Sender: the mailer's send loop, an SES-like mailer over the outbox (docs/mail.md).
//
// Each step takes the oldest due outbox row (Outbox::LockNextDue) and decides, in this order:
//   dropped   the user is gone, has no address, turned e-mail off, has not verified the address, or read
//             every mention by now (a verification e-mail: the address is verified or no longer theirs);
//   dead      the address is invalid or suppressed, or the template cannot be rendered
//             (MessageRejected / InvalidParameterValue; dead-lettered first, then recorded);
//   wait      the shared send limits refuse: Throttling waits (the limiter's hint plus exponential
//             backoff with jitter) and leaves the row as it was; DailyQuotaExceeded moves the row's due
//             time to when the rolling 24-hour quota has room again;
//   send      the claim ('sending', attempts + 1, the Message-ID) is committed, THEN one SMTP
//             transaction runs, then its outcome is recorded: sent; retry later with exponential backoff
//             (4xx or a failure before the body left, never more than --max-attempts); dead (5xx, the
//             address suppressed as a bounce when the recipient or message was refused); unknown (no
//             verdict after the body was sent).
// Guarantee: AT MOST ONE SMTP transaction that may have delivered a row's e-mail. Only a committed claim
// allows a transaction, a row is retried only after a transaction that certainly delivered nothing, and
// a claim that ends without a recorded outcome (a crash, PostgreSQL unreachable afterwards) is never
// retried: once its lease expires, a sweep marks it unknown and dead-letters it. So a crash can cost one
// e-mail per mailer process (reported in the dead-letter topic), and never duplicates one.
#pragma once

#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <random>
#include <string>

#include "common/config.h"
#include "queue/kafka.h"
#include "storage/redis_client.h"
#include "workers/consume/dead_letters.h"
#include "workers/mail/dead_letters.h"
#include "workers/mail/mail_settings.h"
#include "workers/mail/outbox.h"
#include "workers/mail/send_limiter.h"
#include "workers/mail/smtp_client.h"
#include "workers/mail/template.h"

namespace chatpipe::mail {

// The template of address-verification e-mails; every other row is a mention digest ("mentions").
inline constexpr char kVerifyTemplate[] = "verify";

// The data the "mentions" and "verify" templates are rendered with (docs/mail.md lists the fields).
rapidjson::Document MentionsTemplateData(const DueMail& m, const std::string& app_url);
rapidjson::Document VerifyTemplateData(const DueMail& m, const std::string& app_url);

class Sender {
 public:
  // `instance` names this process in claims (e.g. host:pid:random). `dead_letters` is the mail worker's
  // (its consume loop's), shared with the intake.
  Sender(const CommonConfig& common, const MailSettings& settings, const TemplateSet* templates,
         chatpipe::DeadLetters* dead_letters, std::string instance);
  // Sends until `stop` is set.
  void Run(const std::atomic<bool>& stop);
  // One unit of work: true when it did something (call again at once), false when nothing was due.
  Result<bool> Step(const std::atomic<bool>& stop);

 private:
  Result<bool> Handle(DueMail& m, const std::atomic<bool>& stop);
  Result<bool> SweepExpiredClaim(const std::atomic<bool>& stop);
  // Dead-letters and then records the row as dead, before any claim.
  Status KillUnclaimed(const DueMail& m, const std::string& code, const std::string& reason,
                       const std::atomic<bool>& stop);
  // Records the outcome of a claimed send; retries until PostgreSQL takes it or `stop` is set.
  void Record(const std::function<Status()>& write, const std::atomic<bool>& stop);
  DeadLetter LetterFor(const DueMail& m, const std::string& code, const std::string& reason) const;
  int64_t RetryDelayMs(int attempts);

  CommonConfig common_;
  MailSettings settings_;
  const TemplateSet* templates_;
  chatpipe::DeadLetters* dead_letters_;
  std::string instance_;
  Outbox outbox_;
  RedisClient redis_;
  SendLimiter limiter_;
  SmtpSettings smtp_;
  std::string domain_;
  uint64_t claims_ = 0;
  int throttled_in_a_row_ = 0;
  std::mt19937_64 rng_;
  std::chrono::steady_clock::time_point next_sweep_{};
};

}  // namespace chatpipe::mail
