#include "common/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <utility>
#include <vector>

namespace chatpipe {
namespace {

// A command line like chatpipe's: `worker persist` with the common options and one of its own.
class ConfigTest : public ::testing::Test {
 protected:
  ConfigTest() {
    // The suite's environment (ops/services' env) names real services; this test sets its own.
    for (const char* name : kVariables)
      if (const char* v = getenv(name)) saved_.emplace_back(name, v);
    for (const char* name : kVariables) unsetenv(name);
    CLI::App* worker = app_.add_subcommand("worker");
    CLI::App* persist = worker->add_subcommand("persist");
    AddCommonOptions(persist, &common_);
    persist->add_option("--batch", batch_)->envname("CHATPIPE_TEST_BATCH");
    persist->add_flag("--short-circuit", flag_);
    app_.add_subcommand("ingress")->add_option("--port");
    path_ = ::testing::TempDir() + "chatpipe_config_test_" + std::to_string(getpid()) + ".toml";
  }
  ~ConfigTest() override {
    for (const char* name : kVariables) unsetenv(name);
    for (const auto& [name, value] : saved_) setenv(name.c_str(), value.c_str(), 1);
    std::remove(path_.c_str());
  }
  static constexpr const char* kVariables[] = {"CHATPIPE_KAFKA", "CHATPIPE_PG", "CHATPIPE_REDIS",
                                               "CHATPIPE_NAMESPACE", "CHATPIPE_LOG_LEVEL", "CHATPIPE_LOG_FORMAT",
                                               "CHATPIPE_CONFIG", "CHATPIPE_TEST_BATCH"};
  std::vector<std::pair<std::string, std::string>> saved_;
  void WriteConfig(const std::string& text) { std::ofstream(path_) << text; }
  // The parse's error message, or "" when it succeeded.
  std::string Parse(const std::string& args) {
    try {
      app_.parse("worker persist " + args, false);
      return "";
    } catch (const CLI::Error& e) {
      return e.what();
    }
  }

  CLI::App app_;
  CommonConfig common_;
  int batch_ = 500;
  bool flag_ = false;
  std::string path_;
};

TEST_F(ConfigTest, FlagThenEnvironmentThenFileThenDefault) {
  WriteConfig("kafka = \"file:1\"\npg = \"dbname=file\"\nbatch = 7\nnamespace = \"fromfile\"\n");
  setenv("CHATPIPE_KAFKA", "env:1", 1);
  setenv("CHATPIPE_TEST_BATCH", "8", 1);
  ASSERT_EQ(Parse("--config " + path_ + " --batch 9"), "");
  EXPECT_EQ(batch_, 9);                         // flag over environment and file
  EXPECT_EQ(common_.kafka_brokers, "env:1");    // environment over file
  EXPECT_EQ(common_.pg_conninfo, "dbname=file");  // file over default
  EXPECT_EQ(common_.ns, "fromfile");
  EXPECT_EQ(common_.redis_addr, "127.0.0.1:6379");  // default
  EXPECT_EQ(common_.process, "worker persist");
}

TEST_F(ConfigTest, TheFileComesFromTheEnvironmentToo) {
  WriteConfig("log-level = \"debug\"\nshort-circuit = true\n");
  setenv("CHATPIPE_CONFIG", path_.c_str(), 1);
  ASSERT_EQ(Parse(""), "");
  EXPECT_EQ(common_.log_level, "debug");
  EXPECT_TRUE(flag_);
}

TEST_F(ConfigTest, TheSubcommandsSectionWinsOverTheTopLevel) {
  WriteConfig("batch = 1\nredis = \"top:1\"\n[worker.persist]\nbatch = 2\n[ingress]\nport = 8080\n");
  ASSERT_EQ(Parse("--config " + path_), "");
  EXPECT_EQ(batch_, 2);
  EXPECT_EQ(common_.redis_addr, "top:1");
}

TEST_F(ConfigTest, AnUnknownKeyIsAnErrorThatNamesIt) {
  WriteConfig("kafak = \"x\"\n");
  EXPECT_NE(Parse("--config " + path_).find("unknown key 'kafak'"), std::string::npos);
  WriteConfig("[ingress]\nprot = 1\n");
  EXPECT_NE(Parse("--config " + path_).find("unknown key 'prot' in [ingress]"), std::string::npos);
  WriteConfig("[ingres]\nport = 1\n");
  EXPECT_NE(Parse("--config " + path_).find("unknown section [ingres]"), std::string::npos);
}

TEST_F(ConfigTest, ABadValueIsAnErrorThatNamesTheKey) {
  WriteConfig("log-format = \"xml\"\n");
  EXPECT_NE(Parse("--config " + path_).find("log-format"), std::string::npos);
}

TEST(RedisAddressesTest, RedisTakesOneAddressOrSeveralShards) {
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

TEST(RedisAddressesTest, ABadRedisListIsRefusedWhenParsed) {
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
