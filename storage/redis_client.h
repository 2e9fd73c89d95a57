// RedisClient: blocking Redis connections (hiredis) for workers, with pipelining and reconnects.
//
// Used off the event loops only. One connection per Redis shard (--redis may name several): each
// command goes to the shard of the key or channel it names (storage/redis_shards.h). Commands are
// queued with Append() and sent together by Flush(): every shard's share is written before any reply is
// read, so a batch costs one round trip however many shards it touches, and the replies come back in
// the order the commands were appended. A lost connection is reported as "redis_unavailable" and
// re-established by the next call.
#pragma once

#include <hiredis/hiredis.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
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
  explicit RedisClient(std::vector<RedisAddress> shards);
  RedisClient(std::string host, int port) : RedisClient(std::vector<RedisAddress>{{std::move(host), port}}) {}
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  Status Connect();  // every shard
  void Append(std::vector<std::string> args);
  // Sends what Append() queued and reads all replies, in order. The queue is empty afterwards.
  Status Flush(std::vector<RedisReply>* replies);
  // One command, one reply.
  Result<RedisReply> Command(std::vector<std::string> args);
  // EVALSHA of `script` (loaded on first use and after NOSCRIPT), queued like Append(). Its keys must
  // share a shard (a hash tag): it runs on the first key's.
  void AppendScript(const std::string& script, std::vector<std::string> keys, std::vector<std::string> args);
  size_t shards() const { return shards_.size(); }

 private:
  struct Shard {
    RedisAddress address;
    redisContext* ctx = nullptr;
    size_t loaded = 0;  // scripts_[0, loaded) are loaded on this connection
  };
  Status Connect(Shard& shard);
  static void Drop(Shard& shard);
  // Writes the shard's part of the batch (after the scripts it has not loaded yet); false: lost.
  bool Send(Shard& shard, const std::vector<const std::vector<std::string>*>& commands, size_t* preamble);
  std::vector<Shard> shards_;
  std::vector<std::vector<std::string>> queued_;
  struct Script {
    std::string body;
    std::string sha1;  // hex, as EVALSHA takes it
  };
  std::vector<Script> scripts_;  // the scripts used with EVALSHA
};

}  // namespace chatpipe
