// SendLimiter: SES's two sending limits, shared by every copy of the mailer through Redis.
//
//   max send rate   a token bucket: `rate` tokens a second, at most `burst` saved up. Each send takes one.
//   sending quota   at most `quota` sends in any rolling 24 hours (the window is configurable for tests).
//
// Both are checked and taken in ONE Lua script (atomic in Redis), timed by Redis' own clock (TIME), so
// any number of mailer processes on any machines together stay within both limits. The quota is checked
// first and a refused send takes nothing. A send is counted when it is admitted, before the SMTP
// transaction: a send that then fails still counts, so the limits can only be undershot, never exceeded.
// Keys (docs/mail.md): <p>mail:rate (hash: tokens, us) and <p>mail:sent (sorted set: send id -> ms).
// If Redis cannot be reached nothing is admitted (fail closed).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "storage/redis_client.h"

namespace chatpipe::mail {

struct SendLimits {
  double rate = 1;        // sends per second
  double burst = 5;       // bucket size
  int64_t quota = 200;    // sends per window
  int64_t quota_window_ms = 24 * 3600 * 1000;
};

// SES's words for a send deferred by the quota, as the outbox records it.
inline constexpr const char* kDailyQuotaExceeded = "DailyQuotaExceeded: Daily message quota exceeded.";

class SendLimiter {
 public:
  SendLimiter(RedisClient* redis, const std::string& prefix, SendLimits limits);
  // kAdmitted when the send may go now (and counts it); else the limit that refuses it (SES's
  // Throttling and DailyQuotaExceeded) with the wait until it could succeed in *retry_after_ms. A
  // Status ("redis_unavailable") only when Redis cannot answer. `send_id` must be unique per
  // admitted send.
  enum class Admission { kAdmitted, kThrottled, kOverQuota };
  Result<Admission> Admit(const std::string& send_id, int64_t* retry_after_ms);
  // Sends counted in the current quota window.
  Result<int64_t> SentInWindow();

  // One hash tag: the admit script reads and writes both.
  std::string rate_key() const { return prefix_ + "{mail}:rate"; }
  std::string sent_key() const { return prefix_ + "{mail}:sent"; }

 private:
  RedisClient* redis_;
  std::string prefix_;
  SendLimits limits_;
};

}  // namespace chatpipe::mail
