#include "common/config.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

TEST(ConfigTest, RedisTakesOneAddressOrSeveralShards) {
  std::vector<RedisAddress> shards;
  std::string error;
  ASSERT_TRUE(ParseRedisAddresses("10.0.0.1:7000", &shards, &error));
  ASSERT_EQ(shards.size(), 1u);
  EXPECT_EQ(shards[0].host, "10.0.0.1");
  EXPECT_EQ(shards[0].port, 7000);
  ASSERT_TRUE(ParseRedisAddresses("a:1,redis-b,c:3", &shards, &error));
  ASSERT_EQ(shards.size(), 3u);
  EXPECT_EQ(shards[1].host, "redis-b");
  EXPECT_EQ(shards[1].port, 6379) << "no port: Redis's";
  EXPECT_EQ(shards[2].port, 3);
  for (const char* bad : {"", "a:1,", ":6379", "a:port", "a:70000", "a:1,,b:2"}) {
    EXPECT_FALSE(ParseRedisAddresses(bad, &shards, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(ConfigTest, ABadRedisListIsRefusedWhenParsed) {
  CLI::App app;
  CommonConfig config;
  AddCommonOptions(&app, &config);
  EXPECT_THROW(app.parse(std::vector<std::string>{"a:1,b:x", "--redis"}), CLI::ValidationError);
  app.parse(std::vector<std::string>{"a:1,b:2", "--redis"});  // CLI11 takes argv reversed
  ASSERT_EQ(config.RedisShards().size(), 2u);
  EXPECT_EQ(config.RedisShards()[1].host, "b");
}

}  // namespace
}  // namespace chatpipe
