// RedisClient: one blocking Redis connection (hiredis) for workers, with pipelining and reconnects.
//
// Used off the event loops only. Commands are queued with Append() and sent together by Flush(), which
// reads every reply: one round trip for a whole batch. A lost connection is reported as
// "redis_unavailable" and re-established by the next call.
#pragma once

#include <hiredis/hiredis.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace chatpipe {

struct RedisReply {
  int type = 0;          // REDIS_REPLY_*
  long long integer = 0;
  std::string str;       // string, status or error text
  std::vector<RedisReply> elements;
};

// The SHA1 digest of a Lua script, in hex, as EVALSHA takes it.
std::string ScriptSha1(std::string_view script);

class RedisClient {
 public:
  RedisClient(std::string host, int port) : host_(std::move(host)), port_(port) {}
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  Status Connect();
  void Append(std::vector<std::string> args);
  // Sends what Append() queued and reads all replies, in order. The queue is empty afterwards.
  Status Flush(std::vector<RedisReply>* replies);
  // One command, one reply.
  Result<RedisReply> Command(std::vector<std::string> args);
  // EVALSHA of `script` (loaded on first use and after NOSCRIPT), queued like Append().
  void AppendScript(const std::string& script, std::vector<std::string> keys, std::vector<std::string> args);

 private:
  void Drop();
  std::string host_;
  int port_;
  redisContext* ctx_ = nullptr;
  std::vector<std::vector<std::string>> queued_;
  struct Script {
    std::string body;
    std::string sha1;  // hex, as EVALSHA takes it
  };
  std::vector<Script> scripts_;      // the scripts used with EVALSHA
  size_t loaded_ = 0;                // scripts_[0, loaded_) are loaded on this connection
};

}  // namespace chatpipe
