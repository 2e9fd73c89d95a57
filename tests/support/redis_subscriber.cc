#include "tests/support/redis_subscriber.h"

namespace chatpipe::test {

Result<std::unique_ptr<Subscriber>> Subscriber::Create(const CommonConfig& config,
                                                       const std::vector<std::string>& channels) {
  std::unique_ptr<Subscriber> s(new Subscriber());
  s->ctx_ = redisConnect(config.RedisShards()[0].host.c_str(), config.RedisShards()[0].port);
  if (!s->ctx_ || s->ctx_->err) return Status::Unavailable("redis_unavailable", "cannot connect to Redis");
  for (const auto& channel : channels) {
    auto* reply = static_cast<redisReply*>(redisCommand(s->ctx_, "SUBSCRIBE %b", channel.data(), channel.size()));
    if (!reply) return Status::Unavailable("redis_unavailable", "SUBSCRIBE failed");
    freeReplyObject(reply);
  }
  return s;
}

Subscriber::~Subscriber() {
  if (ctx_) redisFree(ctx_);
}

Result<std::string> Subscriber::Next(std::chrono::milliseconds timeout) {
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  redisSetTimeout(ctx_, tv);
  void* raw = nullptr;
  if (redisGetReply(ctx_, &raw) != REDIS_OK || !raw)
    return Status::Unavailable("timeout", std::string("no message on the subscribed channels: ") + ctx_->errstr);
  auto* reply = static_cast<redisReply*>(raw);
  std::string payload;
  if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 3) payload.assign(reply->element[2]->str, reply->element[2]->len);
  freeReplyObject(reply);
  return payload;
}

}  // namespace chatpipe::test
