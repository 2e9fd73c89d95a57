#include "storage/redis_shards.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "storage/redis_keys.h"

namespace chatpipe {
namespace {

// What `CLUSTER KEYSLOT` answers on a Redis 7 cluster node for these names (hash tags included).
TEST(RedisShardsTest, SlotsAreRedisClusters) {
  EXPECT_EQ(RedisSlot("foo"), 12182);
  EXPECT_EQ(RedisSlot("bar"), 5061);
  EXPECT_EQ(RedisSlot("somekey"), 11058);
  EXPECT_EQ(RedisSlot("123456789"), 12739);
  EXPECT_EQ(RedisSlot("{user1000}.following"), 3443);
  EXPECT_EQ(RedisSlot("{user1000}.followers"), 3443);
  EXPECT_EQ(RedisSlot("foo{}{bar}"), 8363) << "an empty tag: the whole name";
  EXPECT_EQ(RedisSlot("foo{{bar}}zap"), 4015) << "the tag is '{bar'";
  EXPECT_EQ(RedisSlot("foo{bar}{zap}"), 5061) << "the first tag only";
}

TEST(RedisShardsTest, OneShardHoldsEverything) {
  for (const char* key : {"room:{1}", "user:2", "", "{board}"}) EXPECT_EQ(RedisShardOf(key, 1), 0u);
}

TEST(RedisShardsTest, SlotsSpreadEvenlyOverTheShards) {
  for (size_t shards : {2, 3, 5}) {
    std::vector<int> per_shard(shards);
    for (int room = 0; room < 30000; ++room) per_shard[RedisShardOf("room:{" + std::to_string(room) + "}", shards)]++;
    for (size_t s = 0; s < shards; ++s)
      EXPECT_NEAR(per_shard[s], 30000.0 / shards, 30000.0 / shards * 0.1) << s << " of " << shards << " shards";
  }
}

TEST(RedisShardsTest, AddingAShardMovesOnlyItsShareAndOnlyToIt) {
  for (size_t shards : {1, 2, 4}) {
    int moved = 0;
    for (int slot_key = 0; slot_key < 20000; ++slot_key) {
      const std::string key = "user:" + std::to_string(slot_key);
      const size_t before = RedisShardOf(key, shards), after = RedisShardOf(key, shards + 1);
      if (before == after) continue;
      ++moved;
      EXPECT_EQ(after, shards) << key << " moved between old shards";
    }
    EXPECT_NEAR(moved, 20000.0 / (shards + 1), 20000.0 / (shards + 1) * 0.1) << shards << " -> " << shards + 1;
  }
}

TEST(RedisShardsTest, ARoomsNamesShareItsShard) {
  for (size_t shards : {2, 7}) {
    const size_t channel = RedisShardOf(RoomChannel("ns:", 42), shards);
    EXPECT_EQ(RedisShardOf(RoomHistoryKey("ns:", 42), shards), channel);
    EXPECT_EQ(RedisShardOf(RoomPresentKey("ns:", 42), shards), channel);
    EXPECT_EQ(RedisShardOf(RoomUserKey("ns:", 42, 7), shards), channel);
  }
  EXPECT_EQ(RoomOfChannel("ns:", RoomChannel("ns:", 42)), 42);
  for (const char* other : {"ns:user:42", "ns:room:{42", "ns:room:{4x}", "xx:room:{42}", "ns:room:{}"})
    EXPECT_EQ(RoomOfChannel("ns:", other), 0) << other;
}

TEST(RedisShardsTest, CommandsRouteByTheirKeyOrChannel) {
  using Args = std::vector<std::string>;
  EXPECT_EQ(RoutingKey(Args{"GET", "k"}), "k");
  EXPECT_EQ(RoutingKey(Args{"PUBLISH", "room:{1}", "x"}), "room:{1}");
  EXPECT_EQ(RoutingKey(Args{"EVALSHA", "abc", "2", "{board}", "{board}:version", "1"}), "{board}");
  EXPECT_EQ(RoutingKey(Args{"eval", "return 1", "0"}), "");
  EXPECT_EQ(RoutingKey(Args{"PUBSUB", "NUMSUB", "user:3"}), "user:3");
  EXPECT_EQ(RoutingKey(Args{"PING"}), "");
  EXPECT_EQ(RoutingKey(Args{"SCRIPT", "LOAD", "return 1"}), "");
}

}  // namespace
}  // namespace chatpipe
