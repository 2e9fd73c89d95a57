#include "storage/redis_client.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "storage/redis_shards.h"

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

RedisClient::RedisClient(std::vector<RedisAddress> shards) {
  for (auto& a : shards) shards_.push_back(Shard{std::move(a)});
}

RedisClient::~RedisClient() {
  for (Shard& shard : shards_) Drop(shard);
}

void RedisClient::Drop(Shard& shard) {
  if (shard.ctx) redisFree(shard.ctx);
  shard.ctx = nullptr;
  shard.loaded = 0;
}

Status RedisClient::Connect() {
  for (Shard& shard : shards_)
    if (Status s = Connect(shard); !s.ok()) return s;
  return Status::Ok();
}

Status RedisClient::Connect(Shard& shard) {
  if (shard.ctx) return Status::Ok();
  timeval timeout{2, 0};
  shard.ctx = redisConnectWithTimeout(shard.address.host.c_str(), shard.address.port, timeout);
  if (!shard.ctx || shard.ctx->err) {
    std::string why = shard.ctx ? shard.ctx->errstr : "out of memory";
    Drop(shard);
    return Status::Unavailable("redis_unavailable", "Redis " + shard.address.host + ":" +
                                                        std::to_string(shard.address.port) + ": " + why);
  }
  redisSetTimeout(shard.ctx, timeval{5, 0});
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

bool RedisClient::Send(Shard& shard, const std::vector<const std::vector<std::string>*>& commands, size_t* preamble) {
  // Scripts this connection has not loaded yet go first in the same pipeline, so EVALSHA never meets
  // NOSCRIPT after a reconnect or a Redis restart.
  *preamble = 0;
  for (; shard.loaded < scripts_.size(); ++shard.loaded, ++*preamble)
    redisAppendCommand(shard.ctx, "SCRIPT LOAD %b", scripts_[shard.loaded].body.data(), scripts_[shard.loaded].body.size());
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto* cmd : commands) {
    argv.clear();
    lens.clear();
    for (const auto& a : *cmd) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(shard.ctx, static_cast<int>(argv.size()), argv.data(), lens.data());
  }
  int done = 0;
  while (!done)
    if (redisBufferWrite(shard.ctx, &done) != REDIS_OK) return false;
  return true;
}

Status RedisClient::Flush(std::vector<RedisReply>* replies) {
  auto commands = std::move(queued_);
  queued_.clear();
  replies->clear();
  std::vector<size_t> shard_of(commands.size());
  std::vector<std::vector<const std::vector<std::string>*>> per_shard(shards_.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    shard_of[i] = RedisShardOf(RoutingKey(commands[i]), shards_.size());
    per_shard[shard_of[i]].push_back(&commands[i]);
  }
  // Every shard's part is written before any reply is read, so the round trips overlap. After a
  // failure the connections used are dropped: replies left unread on them would answer the wrong calls.
  auto lost = [&](Shard& shard) {
    std::string why = "Redis " + shard.address.host + ":" + std::to_string(shard.address.port) + ": " +
                      (shard.ctx ? shard.ctx->errstr : "not connected");
    for (size_t s = 0; s < shards_.size(); ++s)
      if (!per_shard[s].empty()) Drop(shards_[s]);
    return Status::Unavailable("redis_unavailable", why);
  };
  std::vector<size_t> preamble(shards_.size(), 0);
  for (size_t s = 0; s < shards_.size(); ++s) {
    if (per_shard[s].empty()) continue;
    if (Status c = Connect(shards_[s]); !c.ok()) {
      for (size_t t = 0; t < s; ++t)
        if (!per_shard[t].empty()) Drop(shards_[t]);
      return c;
    }
    if (!Send(shards_[s], per_shard[s], &preamble[s])) return lost(shards_[s]);
  }
  std::vector<std::vector<RedisReply>> got(shards_.size());
  for (size_t s = 0; s < shards_.size(); ++s) {
    for (size_t k = 0; k < preamble[s] + per_shard[s].size(); ++k) {
      void* raw = nullptr;
      if (redisGetReply(shards_[s].ctx, &raw) != REDIS_OK || !raw) return lost(shards_[s]);
      auto* reply = static_cast<redisReply*>(raw);
      // The shard forgot its scripts (SCRIPT FLUSH, or a restart behind a proxy that kept this
      // connection): load them all again before the next EVALSHA. This call's caller sees the error
      // and retries, as after any failed batch.
      if (reply->type == REDIS_REPLY_ERROR && std::string_view(reply->str, reply->len).starts_with("NOSCRIPT"))
        shards_[s].loaded = 0;
      if (k >= preamble[s]) got[s].push_back(Convert(reply));
      freeReplyObject(reply);
    }
  }
  std::vector<size_t> next(shards_.size(), 0);
  replies->reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) replies->push_back(std::move(got[shard_of[i]][next[shard_of[i]]++]));
  return Status::Ok();
}

Result<RedisReply> RedisClient::Command(std::vector<std::string> args) {
  Append(std::move(args));
  std::vector<RedisReply> replies;
  if (Status s = Flush(&replies); !s.ok()) return s;
  return replies.at(0);
}

}  // namespace chatpipe
