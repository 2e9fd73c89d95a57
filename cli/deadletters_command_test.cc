// `chatpipe deadletters` on the suite's real Kafka: what a worker dead-lettered, as the operator sees it.
#include "cli/deadletters_command.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "tests/support/child_process.h"
#include "tests/support/services.h"
#include "tests/support/worker_env.h"
#include "workers/consume/dead_letters.h"

namespace chatpipe {
namespace {

class DeadLettersCommandTest : public test::WorkerEnvTest {
 protected:
  // Runs the real binary with `extra` arguments; its output's JSON lines, parsed.
  std::vector<std::unique_ptr<rapidjson::Document>> Run(const std::vector<std::string>& extra) {
    auto dir = test::TempDir::Create("deadletters");
    EXPECT_TRUE(dir.ok());
    if (!dir.ok()) return {};
    const std::string log = (*dir)->path() + "/out";
    std::vector<std::string> argv = {CHATPIPE_BINARY, "deadletters", "--kafka", env_->config().kafka_brokers,
                                     "--namespace", env_->config().ns};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto child = test::ChildProcess::Spawn(argv, log);
    EXPECT_TRUE(child.ok());
    if (!child.ok()) return {};
    EXPECT_EQ((*child)->Wait(std::chrono::seconds(30)), 0);
    std::ifstream in(log);
    std::vector<std::unique_ptr<rapidjson::Document>> out;
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] != '{') continue;  // a log line
      auto doc = std::make_unique<rapidjson::Document>();
      doc->Parse(line.data(), line.size());
      EXPECT_FALSE(doc->HasParseError()) << line;
      out.push_back(std::move(doc));
    }
    return out;
  }
};

TEST_F(DeadLettersCommandTest, ListsEachDeadLetterWithWhyAndWhereItCameFrom) {
  auto producer = KafkaProducer::Create(env_->config().kafka_brokers);
  ASSERT_TRUE(producer.ok());
  DeadLetters letters(producer->get(), env_->config().Topic(kDeadLetterTopic), "persist");
  std::atomic<bool> stop{false};
  KafkaMessage from;  // where the refused message was
  from.topic = env_->config().Topic(kMessagesTopic);
  from.partition = 2;
  from.offset = 41;
  ASSERT_TRUE(letters.Send("7", "{\"v\":99}", "unknown event version 99", stop, &from).ok());
  ASSERT_TRUE(letters.Send("8", "not \xFF json", "not JSON", stop).ok());

  auto all = Run({});
  ASSERT_EQ(all.size(), 2u);
  const rapidjson::Document& first = *all[0];
  EXPECT_STREQ(first["key"].GetString(), "7");
  EXPECT_STREQ(first["payload"].GetString(), "{\"v\":99}");
  EXPECT_EQ(first["offset"].GetInt64(), 0);
  EXPECT_GT(first["ts"].GetInt64(), 0);
  const auto& h = first["headers"];
  EXPECT_STREQ(h["reason"].GetString(), "unknown event version 99");
  EXPECT_STREQ(h["source"].GetString(), "persist");
  EXPECT_EQ(h["topic"].GetString(), env_->config().Topic(kMessagesTopic));
  EXPECT_STREQ(h["partition"].GetString(), "2");
  EXPECT_STREQ(h["offset"].GetString(), "41");
  // A payload that is not UTF-8 is still shown, its bad bytes as U+FFFD.
  EXPECT_STREQ((*all[1])["payload"].GetString(), "not \xEF\xBF\xBD json");
  EXPECT_FALSE((*all[1])["headers"].HasMember("topic"));

  auto newest = Run({"--last", "1"});
  ASSERT_EQ(newest.size(), 1u);
  EXPECT_STREQ((*newest[0])["key"].GetString(), "8");
}

}  // namespace
}  // namespace chatpipe
