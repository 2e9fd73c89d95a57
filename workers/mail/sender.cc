#include "workers/mail/sender.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <thread>

#include "common/email_token.h"
#include "common/metrics.h"
#include "workers/consume/pause.h"
#include "workers/mail/mime.h"

namespace chatpipe::mail {
namespace {

Metric& sent = Counter("chatpipe_mail_sent_total", "e-mails the SMTP server accepted");
Metric& dropped = Counter("chatpipe_mail_dropped_total",
                          "outbox rows with nothing to send (all mentions read, no address, e-mail off)");
Metric& rejected = Counter("chatpipe_mail_rejected_total",
                           "outbox rows found undeliverable (suppressed, invalid address, template, SMTP 5xx)");
Metric& throttled = Counter("chatpipe_mail_throttled_total", "sends refused by the shared rate limit, retried");
Metric& over_quota = Counter("chatpipe_mail_quota_exceeded_total", "sends deferred by the rolling 24-hour quota");
Metric& retries = Counter("chatpipe_mail_retries_total", "transient SMTP failures, retried later");
Metric& unknown = Counter("chatpipe_mail_unknown_total", "sends that ended without a verdict, never retried");
Metric& errors = Counter("chatpipe_mail_sender_errors_total", "sender steps that failed (PostgreSQL, Redis), retried");

std::string FormatTime(int64_t ms) {
  time_t t = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

struct VerifyData {
  std::string email, token;  // empty when missing
};

VerifyData ParseVerifyData(const std::string& json) {
  VerifyData v;
  rapidjson::Document d;
  if (d.Parse(json.c_str()).HasParseError() || !d.IsObject()) return v;
  for (auto [field, out] : {std::pair{"email", &v.email}, std::pair{"token", &v.token}})
    if (auto it = d.FindMember(field); it != d.MemberEnd() && it->value.IsString()) *out = it->value.GetString();
  return v;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Why the row goes without an e-mail ("": send it). Mention digests go only to verified addresses; a
// verification e-mail only to an address still unverified and still the user's.
std::string DropReason(const DueMail& m) {
  if (!m.user_exists) return "NoRecipient: user " + std::to_string(m.user_id) + " does not exist";
  if (m.template_name == kVerifyTemplate) {
    if (m.email.empty()) return "NoRecipient: the user has no e-mail address";
    if (m.verified) return "AlreadyVerified: the address was verified meanwhile";
    if (Lower(ParseVerifyData(m.data).email) != Lower(m.email))
      return "AddressChanged: the address to verify is no longer the user's";
    return "";
  }
  if (!m.notifications) return "NotificationsOff: the user turned e-mail notifications off";
  if (m.email.empty()) return "NoRecipient: the user has no e-mail address";
  if (!m.verified) return "Unverified: the user has not verified their address";
  if (m.unread.empty()) return "AllRead: every mention was read before the e-mail went out";
  return "";
}

rapidjson::Value StringValue(const std::string& s, rapidjson::Document::AllocatorType& a) {
  return rapidjson::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a);
}

// What every template gets: user.{id,name,email} and app_url.
rapidjson::Document CommonTemplateData(const DueMail& m, const std::string& app_url) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  rapidjson::Value user(rapidjson::kObjectType);
  user.AddMember("id", rapidjson::Value(static_cast<int64_t>(m.user_id)), a);
  user.AddMember("name", StringValue(m.user_name, a), a);
  user.AddMember("email", StringValue(m.email, a), a);
  d.AddMember("user", user, a);
  d.AddMember("app_url", StringValue(app_url, a), a);
  return d;
}

}  // namespace

rapidjson::Document VerifyTemplateData(const DueMail& m, const std::string& app_url) {
  rapidjson::Document d = CommonTemplateData(m, app_url);
  auto& a = d.GetAllocator();
  auto str = [&a](const std::string& s) { return StringValue(s, a); };
  // Without a well-formed token there is no link, and the e-mail fails to render (MessageRejected).
  VerifyData v = ParseVerifyData(m.data);
  if (auto claim = EmailTokenSigner::Parse(v.token); claim.ok()) {
    d.AddMember("link", str(app_url + "/api/users/verify?token=" + v.token), a);
    d.AddMember("expires", str(FormatTime(claim->expires * 1000)), a);
  }
  return d;
}

rapidjson::Document MentionsTemplateData(const DueMail& m, const std::string& app_url) {
  using rapidjson::Value;
  rapidjson::Document d = CommonTemplateData(m, app_url);
  auto& a = d.GetAllocator();
  auto str = [&a](const std::string& s) { return StringValue(s, a); };
  size_t n = m.unread.size();
  d.AddMember("count", Value(static_cast<uint64_t>(n)), a);
  d.AddMember("count_text", str(n == 1 ? "1 new mention" : std::to_string(n) + " new mentions"), a);
  std::vector<std::string> rooms;
  for (const auto& u : m.unread)
    if (std::find(rooms.begin(), rooms.end(), "#" + u.room_name) == rooms.end()) rooms.push_back("#" + u.room_name);
  std::string rooms_text;
  for (const auto& r : rooms) rooms_text += (rooms_text.empty() ? "" : ", ") + r;
  d.AddMember("rooms_text", str(rooms_text), a);
  Value list(rapidjson::kArrayType);
  for (const auto& u : m.unread) {
    Value item(rapidjson::kObjectType);
    item.AddMember("mention_id", Value(static_cast<int64_t>(u.mention_id)), a);
    Value room(rapidjson::kObjectType);
    room.AddMember("id", Value(static_cast<int64_t>(u.room_id)), a);
    room.AddMember("name", str(u.room_name), a);
    item.AddMember("room", room, a);
    Value from(rapidjson::kObjectType);
    from.AddMember("id", Value(static_cast<int64_t>(u.from_id)), a);
    from.AddMember("name", str(u.from_name), a);
    item.AddMember("from", from, a);
    item.AddMember("text", str(u.text), a);
    item.AddMember("time", str(FormatTime(u.message_ts)), a);
    std::string link = app_url + "/?room=" + std::to_string(u.room_id);
    if (u.pos > 0) link += "&pos=" + std::to_string(u.pos);
    item.AddMember("link", str(link), a);
    list.PushBack(item, a);
  }
  d.AddMember("mentions", list, a);
  return d;
}

Sender::Sender(const CommonConfig& common, const MailSettings& settings, const TemplateSet* templates,
               DeadLetters* dead_letters, std::string instance)
    : common_(common),
      settings_(settings),
      templates_(templates),
      dead_letters_(dead_letters),
      instance_(std::move(instance)),
      outbox_(common.pg_conninfo),
      redis_(common.RedisShards()),
      limiter_(&redis_, common.RedisPrefix(), SendLimits{settings.rate, settings.burst, settings.quota}),
      smtp_{settings.smtp_url, settings.mail_from, std::chrono::milliseconds(settings.smtp_timeout_ms)},
      domain_(MailDomain(settings)),
      rng_(std::random_device{}()) {}

void Sender::Run(const std::atomic<bool>& stop) {
  auto backoff = std::chrono::milliseconds(100);
  while (!stop) {
    auto did = Step(stop);
    if (!did.ok()) {
      errors.Add();
      spdlog::warn("mail: {}; retrying in {} ms", did.status().ToString(), backoff.count());
      PauseUnlessStopped(backoff, stop);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      continue;
    }
    backoff = std::chrono::milliseconds(100);
    if (!*did) PauseUnlessStopped(std::chrono::milliseconds(settings_.poll_ms), stop);
  }
}

Result<bool> Sender::Step(const std::atomic<bool>& stop) {
  auto now = std::chrono::steady_clock::now();
  if (now >= next_sweep_) {
    auto swept = SweepExpiredClaim(stop);
    if (!swept.ok() || *swept) return swept;
    next_sweep_ = now + std::chrono::milliseconds(std::min<int64_t>(settings_.lease_ms / 4, 1000));
  }
  auto due = outbox_.LockNextDue();
  if (!due.ok()) return due.status();
  if (!due->has_value()) return false;
  return Handle(**due, stop);
}

Result<bool> Sender::SweepExpiredClaim(const std::atomic<bool>& stop) {
  auto claim = outbox_.LockExpiredClaim(settings_.lease_ms);
  if (!claim.ok()) return claim.status();
  if (!claim->has_value()) return false;
  const ExpiredClaim& c = **claim;
  const std::string reason =
      "the mailer that claimed this e-mail reported no outcome within --lease-ms (it crashed or lost its "
      "database); it may or may not have been delivered, and is never sent again";
  DeadLetter letter{"Unknown", reason, c.id, c.user_id, c.to_addr, c.message_id, c.mention_ids, c.events};
  if (Status s = dead_letters_->Send(std::to_string(c.user_id), EncodeDeadLetter(letter), "Unknown: " + reason, stop);
      !s.ok()) {
    outbox_.Release();
    return s;
  }
  if (Status s = outbox_.ExpireClaim(c, "Unknown: " + reason); !s.ok()) return s;
  unknown.Add();
  spdlog::warn("mail: e-mail {} to user {}: claim expired; marked unknown", c.id, c.user_id);
  return true;
}

DeadLetter Sender::LetterFor(const DueMail& m, const std::string& code, const std::string& reason) const {
  return DeadLetter{code, reason, m.id, m.user_id, m.email, m.message_id, m.mention_ids, m.events};
}

Status Sender::KillUnclaimed(const DueMail& m, const std::string& code, const std::string& reason,
                             const std::atomic<bool>& stop) {
  std::string why = code + ": " + reason;
  const std::string letter = EncodeDeadLetter(LetterFor(m, code, reason));
  if (Status s = dead_letters_->Send(std::to_string(m.user_id), letter, why, stop); !s.ok()) {
    outbox_.Release();
    return s;
  }
  if (Status s = outbox_.Kill(m, why); !s.ok()) return s;
  rejected.Add();
  spdlog::info("mail: e-mail {} to user {} is undeliverable: {}", m.id, m.user_id, why);
  return Status::Ok();
}

void Sender::Record(const std::function<Status()>& write, const std::atomic<bool>& stop) {
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    Status s = write();
    if (s.ok()) return;
    // Left as 'sending', the row is marked unknown by the sweep once its lease expires: never resent.
    spdlog::warn("mail: cannot record a send's outcome, retrying: {}", s.ToString());
    if (stop) return;
    PauseUnlessStopped(backoff, stop);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
}

int64_t Sender::RetryDelayMs(int attempts) {
  double delay = static_cast<double>(settings_.retry_base_ms) * static_cast<double>(1LL << std::min(attempts - 1, 20));
  delay = std::min(delay, 3600.0 * 1000);
  return static_cast<int64_t>(delay * std::uniform_real_distribution<double>(0.8, 1.2)(rng_));
}

Result<bool> Sender::Handle(DueMail& m, const std::atomic<bool>& stop) {
  if (std::string drop = DropReason(m); !drop.empty()) {
    if (Status s = outbox_.Drop(m, drop); !s.ok()) return s;
    dropped.Add();
    spdlog::debug("mail: e-mail {} to user {} dropped: {}", m.id, m.user_id, drop);
    return true;
  }
  if (!ValidAddress(m.email)) {
    Status s = KillUnclaimed(m, "InvalidParameterValue", "not a valid e-mail address: " + m.email, stop);
    return s.ok() ? Result<bool>(true) : Result<bool>(s);
  }
  if (!m.suppressed.empty()) {
    Status s = KillUnclaimed(m, "MessageRejected", "Address is on the suppression list (" + m.suppressed + ").", stop);
    return s.ok() ? Result<bool>(true) : Result<bool>(s);
  }
  rapidjson::Document data = m.template_name == kVerifyTemplate ? VerifyTemplateData(m, settings_.app_url)
                                                                 : MentionsTemplateData(m, settings_.app_url);
  auto rendered = templates_->Render(m.template_name, data);
  if (!rendered.ok()) {
    Status s = KillUnclaimed(m, rendered.status().name(), rendered.status().detail(), stop);
    return s.ok() ? Result<bool>(true) : Result<bool>(s);
  }
  if (m.message_id.empty()) m.message_id = std::to_string(m.id) + "." + std::to_string(m.created_us) + "@" + domain_;

  int64_t wait_ms = 0;
  auto admitted = limiter_.Admit(m.message_id + "#" + std::to_string(m.attempts + 1), &wait_ms);
  if (!admitted.ok()) {
    outbox_.Release();
    return admitted.status();
  }
  if (*admitted == SendLimiter::Admission::kThrottled) {
    outbox_.Release();
    throttled.Add();
    // The hint is exact for one mailer; the growing random extra spreads competing mailers apart.
    int64_t spread = std::min<int64_t>(1000, 25LL << std::min(throttled_in_a_row_++, 6));
    const int64_t jitter = std::uniform_int_distribution<int64_t>(0, spread)(rng_);
    PauseUnlessStopped(std::chrono::milliseconds(wait_ms + jitter), stop);
    return true;
  }
  if (*admitted == SendLimiter::Admission::kOverQuota) {
    over_quota.Add();
    if (Status s = outbox_.Defer(m, wait_ms, kDailyQuotaExceeded); !s.ok()) return s;
    spdlog::info("mail: daily quota used up; e-mail {} waits {} s", m.id, wait_ms / 1000);
    return true;
  }
  throttled_in_a_row_ = 0;

  const std::string claim = instance_ + ":" + std::to_string(++claims_);
  if (Status s = outbox_.Claim(m, claim, m.message_id); !s.ok()) return s;  // nothing sent; the admission is spent
  // From here on this row is ours alone, and no one sends it again, whatever happens below.
  Email email;
  email.from_name = settings_.from_name;
  email.from_addr = settings_.mail_from;
  email.to_addr = m.email;
  email.subject = rendered->subject;
  email.text = rendered->text;
  email.html = rendered->html;
  email.message_id = m.message_id;
  email.date_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
  email.headers = {{"X-Chatpipe-Outbox", std::to_string(m.id)}};
  SmtpResult r = SendSmtp(smtp_, m.email, ComposeMessage(email));
  const int attempts = m.attempts + 1;
  const std::string key = std::to_string(m.user_id);
  std::vector<int64_t> carried;
  for (const auto& u : m.unread) carried.push_back(u.mention_id);

  switch (r.kind) {
    case SmtpResult::kAccepted:
      Record([&] { return outbox_.FinishSent(m.id, claim); }, stop);
      sent.Add();
      spdlog::info("mail: sent e-mail {} ({}, {} mentions) to user {}", m.id, m.template_name, carried.size(),
                   m.user_id);
      return true;
    case SmtpResult::kPermanent: {
      std::string why = "MessageRejected: " + r.detail;
      if (!dead_letters_->Send(key, EncodeDeadLetter(LetterFor(m, "MessageRejected", r.detail)), why, stop).ok())
        return true;  // stopping: the sweep will mark it unknown
      Record([&] { return outbox_.FinishDead(m.id, claim, why, r.recipient_refused); }, stop);
      rejected.Add();
      spdlog::warn("mail: e-mail {} to user {} rejected{}: {}", m.id, m.user_id,
                   r.recipient_refused ? " (address suppressed)" : "", r.detail);
      return true;
    }
    case SmtpResult::kTransient:
      if (attempts >= settings_.max_attempts) {
        std::string reason = "gave up after " + std::to_string(attempts) + " attempts: " + r.detail;
        if (!dead_letters_->Send(key, EncodeDeadLetter(LetterFor(m, "ServiceUnavailable", reason)),
                                 "ServiceUnavailable: " + reason, stop).ok())
          return true;
        Record([&] { return outbox_.FinishDead(m.id, claim, "ServiceUnavailable: " + reason, false); }, stop);
        rejected.Add();
        spdlog::warn("mail: e-mail {} to user {}: {}", m.id, m.user_id, reason);
      } else {
        int64_t delay = RetryDelayMs(attempts);
        Record([&] { return outbox_.FinishRetry(m.id, claim, delay, "ServiceUnavailable: " + r.detail); }, stop);
        retries.Add();
        spdlog::warn("mail: e-mail {} to user {} not sent (attempt {}), retrying in {} ms: {}", m.id, m.user_id,
                     attempts, delay, r.detail);
      }
      return true;
    case SmtpResult::kUnknown: {
      std::string reason = r.detail + "; the server may have accepted it, so it is not retried";
      if (!dead_letters_->Send(key, EncodeDeadLetter(LetterFor(m, "Unknown", reason)), "Unknown: " + reason,
                               stop).ok())
        return true;
      Record([&] { return outbox_.FinishUnknown(m.id, claim, "Unknown: " + reason); }, stop);
      unknown.Add();
      spdlog::warn("mail: e-mail {} to user {}: outcome unknown: {}", m.id, m.user_id, r.detail);
      return true;
    }
  }
  return true;
}

}  // namespace chatpipe::mail
