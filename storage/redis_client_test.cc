// RedisClient over two real Redis shards (two redis-server processes of the test's own): every command
// reaches the shard its key's hash tag names, replies come back in the order appended, scripts run
// where their keys are (and are loaded again once a shard forgot them), and a shard that goes away
// fails the batch without confusing the other.
#include "storage/redis_client.h"

#include <gtest/gtest.h>

#include "storage/redis_shards.h"
#include "tests/support/child_process.h"
#include "tests/support/stack.h"
#include "tests/support/wait.h"

namespace chatpipe {
namespace {

using test::ChildProcess;

class RedisShardsClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 2; ++i) {
      const int port = test::FreeLoopbackPort();
      auto server = ChildProcess::Spawn({"/usr/bin/redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1",
                                         "--save", "", "--appendonly", "no", "--loglevel", "warning"},
                                        "/dev/null");
      ASSERT_TRUE(server.ok()) << server.status().ToString();
      servers_.push_back(std::move(*server));
      shards_.push_back({"127.0.0.1", port});
      auto alone = std::make_unique<RedisClient>("127.0.0.1", port);
      ASSERT_TRUE(test::WaitFor([&] { return alone->Connect().ok(); })) << "redis-server on " << port;
      alone_.push_back(std::move(alone));
    }
  }

  std::vector<std::unique_ptr<ChildProcess>> servers_;
  std::vector<RedisAddress> shards_;
  std::vector<std::unique_ptr<RedisClient>> alone_;  // one client per shard, to look inside
};

TEST_F(RedisShardsClientTest, EachCommandGoesToItsKeysShardAndRepliesKeepTheirOrder) {
  RedisClient redis(shards_);
  std::vector<int> on_shard(2);
  for (int room = 1; room <= 100; ++room) {
    const std::string key = "room:{" + std::to_string(room) + "}:last";
    redis.Append({"RPUSH", key, "frame-" + std::to_string(room)});
    on_shard[RedisShardOf(key, 2)]++;
  }
  for (int room = 1; room <= 100; ++room) redis.Append({"LINDEX", "room:{" + std::to_string(room) + "}:last", "0"});
  std::vector<RedisReply> replies;
  ASSERT_TRUE(redis.Flush(&replies).ok());
  ASSERT_EQ(replies.size(), 200u);
  for (int room = 1; room <= 100; ++room) EXPECT_EQ(replies[99 + room].str, "frame-" + std::to_string(room));
  EXPECT_GT(on_shard[0], 20);
  EXPECT_GT(on_shard[1], 20);
  for (int room = 1; room <= 100; ++room) {
    const std::string key = "room:{" + std::to_string(room) + "}:last";
    const size_t home = RedisShardOf(key, 2);
    EXPECT_EQ(alone_[home]->Command({"EXISTS", key})->integer, 1) << key;
    EXPECT_EQ(alone_[1 - home]->Command({"EXISTS", key})->integer, 0) << key;
  }
}

TEST_F(RedisShardsClientTest, AScriptRunsOnTheShardOfItsKeys) {
  RedisClient redis(shards_);
  const char* script = "redis.call('SET', KEYS[1], ARGV[1]); redis.call('SET', KEYS[2], ARGV[1]); return 1";
  redis.AppendScript(script, {"{board}", "{board}:version"}, {"7"});
  redis.AppendScript(script, {"{mail}:rate", "{mail}:sent"}, {"8"});
  std::vector<RedisReply> replies;
  ASSERT_TRUE(redis.Flush(&replies).ok());
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].integer, 1);
  EXPECT_EQ(alone_[RedisShardOf("{board}", 2)]->Command({"GET", "{board}:version"})->str, "7");
  EXPECT_EQ(alone_[RedisShardOf("{mail}", 2)]->Command({"GET", "{mail}:sent"})->str, "8");
}

// A shard that forgot its scripts (SCRIPT FLUSH; a restart behind a proxy that kept the connection)
// answers one batch NOSCRIPT, and the client loads them again for the next: workers retry a failed
// batch, and before this they retried NOSCRIPT forever.
TEST_F(RedisShardsClientTest, AScriptTheShardForgotIsLoadedAgainForTheNextBatch) {
  RedisClient redis(shards_);
  const char* script = "return redis.call('INCR', KEYS[1])";
  const size_t home = RedisShardOf("{n}", 2);
  redis.AppendScript(script, {"{n}"}, {});
  std::vector<RedisReply> replies;
  ASSERT_TRUE(redis.Flush(&replies).ok());
  EXPECT_EQ(replies.at(0).integer, 1);
  ASSERT_TRUE(alone_[home]->Command({"SCRIPT", "FLUSH"}).ok());
  redis.AppendScript(script, {"{n}"}, {});
  ASSERT_TRUE(redis.Flush(&replies).ok());
  EXPECT_EQ(replies.at(0).type, REDIS_REPLY_ERROR);
  EXPECT_EQ(replies.at(0).str.rfind("NOSCRIPT", 0), 0u) << replies.at(0).str;
  redis.AppendScript(script, {"{n}"}, {});
  ASSERT_TRUE(redis.Flush(&replies).ok());
  EXPECT_EQ(replies.at(0).type, REDIS_REPLY_INTEGER) << replies.at(0).str;
  EXPECT_EQ(replies.at(0).integer, 2) << "the failed call did not run";
}

TEST_F(RedisShardsClientTest, AShardAwayFailsTheBatchAndTheClientRecoversWhenItIsBack) {
  RedisClient redis(shards_);
  ASSERT_TRUE(redis.Command({"SET", "k", "1"}).ok());
  std::string on_0, on_1;  // a key of each shard
  for (int i = 0; on_0.empty() || on_1.empty(); ++i) {
    std::string key = "user:" + std::to_string(i);
    (RedisShardOf(key, 2) == 0 ? on_0 : on_1) = key;
  }
  servers_[1]->Kill();
  redis.Append({"SET", on_0, "a"});
  redis.Append({"SET", on_1, "b"});
  std::vector<RedisReply> replies;
  Status s = redis.Flush(&replies);
  EXPECT_EQ(s.name(), "redis_unavailable") << s.ToString();
  // Shard 0 still works on its own, through a connection that was dropped and is made again.
  auto alone = redis.Command({"GET", on_0});
  ASSERT_TRUE(alone.ok()) << alone.status().ToString();
  EXPECT_EQ(alone->str, "a") << "shard 0 did apply its part: a batch is not a transaction";
}

}  // namespace
}  // namespace chatpipe
