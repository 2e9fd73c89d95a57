#include "storage/redis_client.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cstdio>

namespace chatpipe {
namespace {

RedisReply Convert(const redisReply* r) {
  RedisReply out;
  out.type = r->type;
  out.integer = r->integer;
  if (r->str) out.str.assign(r->str, r->len);
  for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(Convert(r->element[i]));
  return out;
}

}  // namespace

std::string ScriptSha1(std::string_view s) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  char hex[SHA_DIGEST_LENGTH * 2 + 1];
  for (int i = 0; i < SHA_DIGEST_LENGTH; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  return hex;
}

RedisClient::~RedisClient() { Drop(); }

void RedisClient::Drop() {
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
  loaded_ = 0;
}

Status RedisClient::Connect() {
  if (ctx_) return Status::Ok();
  timeval timeout{2, 0};
  ctx_ = redisConnectWithTimeout(host_.c_str(), port_, timeout);
  if (!ctx_ || ctx_->err) {
    std::string why = ctx_ ? ctx_->errstr : "out of memory";
    Drop();
    return Status::Unavailable("redis_unavailable", "Redis: " + why);
  }
  redisSetTimeout(ctx_, timeval{5, 0});
  return Status::Ok();
}

void RedisClient::Append(std::vector<std::string> args) { queued_.push_back(std::move(args)); }

void RedisClient::AppendScript(const std::string& script, std::vector<std::string> keys,
                               std::vector<std::string> args) {
  // The digest is computed once per script: callers append a script per room per batch.
  auto known = std::find_if(scripts_.begin(), scripts_.end(), [&](const Script& s) { return s.body == script; });
  if (known == scripts_.end()) known = scripts_.insert(scripts_.end(), {script, ScriptSha1(script)});
  std::vector<std::string> cmd = {"EVALSHA", known->sha1, std::to_string(keys.size())};
  cmd.insert(cmd.end(), keys.begin(), keys.end());
  cmd.insert(cmd.end(), args.begin(), args.end());
  queued_.push_back(std::move(cmd));
}

Status RedisClient::Flush(std::vector<RedisReply>* replies) {
  auto commands = std::move(queued_);
  queued_.clear();
  replies->clear();
  if (Status s = Connect(); !s.ok()) return s;
  // Scripts this connection has not loaded yet go first in the same pipeline, so EVALSHA never meets
  // NOSCRIPT after a reconnect or a Redis restart.
  size_t preamble = 0;
  for (; loaded_ < scripts_.size(); ++loaded_, ++preamble)
    redisAppendCommand(ctx_, "SCRIPT LOAD %b", scripts_[loaded_].body.data(), scripts_[loaded_].body.size());
  for (const auto& cmd : commands) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : cmd) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data());
  }
  for (size_t i = 0; i < preamble + commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || !raw) {
      std::string why = ctx_->errstr;
      Drop();
      return Status::Unavailable("redis_unavailable", "Redis: " + why);
    }
    auto* reply = static_cast<redisReply*>(raw);
    if (i >= preamble) replies->push_back(Convert(reply));
    freeReplyObject(reply);
  }
  return Status::Ok();
}

Result<RedisReply> RedisClient::Command(std::vector<std::string> args) {
  Append(std::move(args));
  std::vector<RedisReply> replies;
  if (Status s = Flush(&replies); !s.ok()) return s;
  return replies.at(0);
}

}  // namespace chatpipe
