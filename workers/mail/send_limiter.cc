#include "workers/mail/send_limiter.h"

#include <cstdio>

namespace chatpipe::mail {
namespace {

// KEYS[1] = bucket hash, KEYS[2] = sent set; ARGV = rate/s, burst, quota, window ms, send id.
// Returns {0, 0} when admitted, {1, wait ms} when throttled, {2, wait ms} when the quota is used up.
constexpr const char* kAdmitScript = R"lua(
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now_ms = math.floor(now_us / 1000)
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local quota, window = tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now_ms - window)
if redis.call('ZCARD', KEYS[2]) >= quota then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  local wait = window
  if oldest[2] then wait = tonumber(oldest[2]) + window - now_ms + 1 end
  return {2, math.max(wait, 1)}
end
local b = redis.call('HMGET', KEYS[1], 'tokens', 'us')
local tokens, last = tonumber(b[1]), tonumber(b[2])
if tokens == nil or last == nil then
  tokens, last = burst, now_us
end
if now_us > last then
  tokens = math.min(burst, tokens + (now_us - last) * rate / 1000000)
  last = now_us
end
if tokens < 1 then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'us', tostring(last))
  return {1, math.max(1, math.ceil((1 - tokens) * 1000 / rate))}
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'us', tostring(last))
-- An absent bucket is a full one: it may expire once it would have refilled.
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
redis.call('ZADD', KEYS[2], now_ms, ARGV[5])
redis.call('PEXPIRE', KEYS[2], window + 1000)
return {0, 0}
)lua";

std::string Num(double v) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

SendLimiter::SendLimiter(RedisClient* redis, const std::string& prefix, SendLimits limits)
    : redis_(redis), prefix_(prefix), limits_(limits) {}

Result<SendLimiter::Admission> SendLimiter::Admit(const std::string& send_id, int64_t* retry_after_ms) {
  *retry_after_ms = 0;
  redis_->AppendScript(kAdmitScript, {rate_key(), sent_key()},
                       {Num(limits_.rate), Num(limits_.burst), std::to_string(limits_.quota),
                        std::to_string(limits_.quota_window_ms), send_id});
  std::vector<RedisReply> replies;
  if (Status s = redis_->Flush(&replies); !s.ok()) return s;
  const RedisReply& r = replies.at(0);
  if (r.type != REDIS_REPLY_ARRAY || r.elements.size() != 2)
    return Status::Unavailable("redis_unavailable", "send limiter: " + (r.str.empty() ? "bad reply" : r.str));
  *retry_after_ms = r.elements[1].integer;
  switch (r.elements[0].integer) {
    case 0:
      return Admission::kAdmitted;
    case 1:
      return Admission::kThrottled;
    default:
      return Admission::kOverQuota;
  }
}

Result<int64_t> SendLimiter::SentInWindow() {
  auto now = redis_->Command({"TIME"});
  if (!now.ok()) return now.status();
  if (now->elements.size() != 2) return Status::Unavailable("redis_unavailable", "TIME: bad reply");
  int64_t now_ms = std::stoll(now->elements[0].str) * 1000 + std::stoll(now->elements[1].str) / 1000;
  auto n = redis_->Command({"ZCOUNT", sent_key(), std::to_string(now_ms - limits_.quota_window_ms + 1), "+inf"});
  if (!n.ok()) return n.status();
  return static_cast<int64_t>(n->integer);
}

}  // namespace chatpipe::mail
