// `chatpipe deadletter list|retry` on the suite's real Kafka and PostgreSQL: what a worker
// dead-lettered, as the operator sees it, and putting it back once its cause is fixed.
#include "cli/deadletter_command.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <sstream>

#include "tests/support/child_process.h"
#include "tests/support/services.h"
#include "tests/support/wait.h"
#include "tests/support/worker_env.h"
#include "workers/consume/dead_letters.h"
#include "workers/persist/persister.h"

namespace chatpipe {
namespace {

struct Outcome {
  int code = -1;
  std::string output;
};

class DeadLetterCommandTest : public test::WorkerEnvTest {
 protected:
  // Runs the real binary: `chatpipe deadletter <args...>` on this test's services.
  Outcome Command(const std::vector<std::string>& args) {
    auto dir = test::TempDir::Create("deadletter");
    EXPECT_TRUE(dir.ok());
    if (!dir.ok()) return {};
    const std::string log = (*dir)->path() + "/out";
    std::vector<std::string> argv = {CHATPIPE_BINARY, "deadletter"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--kafka", env_->config().kafka_brokers, "--namespace", env_->config().ns, "--pg",
                             env_->config().pg_conninfo});
    auto child = test::ChildProcess::Spawn(argv, log);
    EXPECT_TRUE(child.ok());
    if (!child.ok()) return {};
    Outcome run;
    run.code = (*child)->Wait(std::chrono::seconds(30));
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    run.output = text.str();
    return run;
  }

  // `deadletter list` with `extra` arguments: its JSON lines, parsed.
  std::vector<std::unique_ptr<rapidjson::Document>> List(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"list"};
    args.insert(args.end(), extra.begin(), extra.end());
    Outcome run = Command(args);
    EXPECT_EQ(run.code, 0) << run.output;
    std::istringstream lines(run.output);
    std::vector<std::unique_ptr<rapidjson::Document>> out;
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line[0] != '{') continue;  // a log line
      auto doc = std::make_unique<rapidjson::Document>();
      doc->Parse(line.data(), line.size());
      EXPECT_FALSE(doc->HasParseError()) << line;
      out.push_back(std::move(doc));
    }
    return out;
  }

  // Sends a dead letter as the persister would have, for a message at chat.messages/2/41.
  void SendDeadLetter(const std::string& key, const std::string& payload, const std::string& reason,
                      bool from_kafka = true) {
    auto producer = KafkaProducer::Create(env_->config().kafka_brokers);
    ASSERT_TRUE(producer.ok());
    DeadLetters letters(producer->get(), env_->config().Topic(kDeadLetterTopic), "persist");
    std::atomic<bool> stop{false};
    KafkaMessage from;
    from.topic = env_->config().Topic(kMessagesTopic);
    from.partition = 2;
    from.offset = 41;
    ASSERT_TRUE(letters.Send(key, payload, reason, stop, from_kafka ? &from : nullptr).ok());
  }
};

TEST_F(DeadLetterCommandTest, ListsEachDeadLetterWithItsIdWhyAndWhereItCameFrom) {
  SendDeadLetter("7", "{\"v\":99}", "unknown event version 99");
  SendDeadLetter("8", "not \xFF json", "not JSON", /*from_kafka=*/false);

  auto all = List();
  ASSERT_EQ(all.size(), 2u);
  const rapidjson::Document& first = *all[0];
  EXPECT_STREQ(first["id"].GetString(), "chat.deadletter/0/0");
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

  auto newest = List({"--last", "1"});
  ASSERT_EQ(newest.size(), 1u);
  EXPECT_STREQ((*newest[0])["id"].GetString(), "chat.deadletter/0/1");
}

// A message the persister refused (say its room did not exist yet) is put back once the cause is
// fixed, and stored once however often the retry is run.
TEST_F(DeadLetterCommandTest, RetryPutsTheEventBackOnceAndItIsStoredOnce) {
  auto user = env_->CreateUser("ana");
  ASSERT_TRUE(user.ok());
  auto room = env_->CreateRoom("general", false, *user);
  ASSERT_TRUE(room.ok());
  ChatEvent e = env_->Event(*room, *user, "ana", "back from the dead");
  SendDeadLetter(std::to_string(*room), EncodeChatEvent(e), "room_not_found");
  SendDeadLetter("9", "{}", "the mailer's: no source topic", /*from_kafka=*/false);
  SendDeadLetter(std::to_string(*room), std::string(950'000, 'x'), "too large to keep whole");

  Outcome unknown = Command({"retry", "--id", "chat.deadletter/0/7"});
  EXPECT_EQ(unknown.code, 1) << unknown.output;
  EXPECT_NE(unknown.output.find("no dead letter chat.deadletter/0/7"), std::string::npos) << unknown.output;

  auto persister = std::make_shared<Persister>(env_->config(), 100);
  ASSERT_TRUE(persister->Start().ok());
  test::WorkerThread running([persister](const std::atomic<bool>& stop) { persister->Run(stop); });

  Outcome first = Command({"retry"});
  ASSERT_EQ(first.code, 0) << first.output;
  EXPECT_NE(first.output.find("chat.deadletter/0/0: put back on " + env_->config().Topic(kMessagesTopic)),
            std::string::npos)
      << first.output;
  EXPECT_NE(first.output.find("chat.deadletter/0/1: not retried: it names no source topic"), std::string::npos)
      << first.output;
  const std::string key_size = std::to_string(std::to_string(*room).size());
  EXPECT_NE(first.output.find("chat.deadletter/0/2: not retried: it was cut to fit the dead-letter topic (key and "
                              "payload were " + key_size + ",950000 bytes); find it on " +
                              env_->config().Topic(kMessagesTopic) + " at partition 2, offset 41"),
            std::string::npos)
      << first.output;
  const std::string count = "SELECT count(*) FROM messages WHERE id = " + std::to_string(e.id);
  EXPECT_TRUE(test::WaitFor([&] { return env_->QueryInt(count).value_or(0) == 1; }));

  Outcome again = Command({"retry", "--id", "chat.deadletter/0/0"});
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_NE(again.output.find("chat.deadletter/0/0: already retried at "), std::string::npos) << again.output;
  EXPECT_EQ(*env_->QueryInt("SELECT count(*) FROM dead_letter_retries"), 1);  // not the cut one either

  // Only one copy went back to the topic, and one row was stored.
  auto copies = ReadTopic(env_->config().kafka_brokers, env_->config().Topic(kMessagesTopic));
  ASSERT_TRUE(copies.ok());
  int found = 0;
  for (const auto& m : *copies) {
    if (m.payload != EncodeChatEvent(e)) continue;
    ++found;
    EXPECT_EQ(m.key, std::to_string(*room));
    EXPECT_TRUE(m.headers.empty());  // the dead-letter headers are not carried back
  }
  EXPECT_EQ(found, 1);
  EXPECT_EQ(*env_->QueryInt(count), 1);
}

// Keeps what is written and, at each flush, how much had been written by then.
class FlushRecorder : public std::stringbuf {
 public:
  std::vector<size_t> flushed_at;

 protected:
  int sync() override {
    flushed_at.push_back(str().size());
    return 0;
  }
};

// Each letter's line is flushed before the next letter is read, not when the command ends.
TEST_F(DeadLetterCommandTest, RetryWritesEachLettersLineOutAsItIsDone) {
  SendDeadLetter("1", "{}", "the mailer's, 1", /*from_kafka=*/false);
  SendDeadLetter("2", "{}", "the mailer's, 2", /*from_kafka=*/false);
  FlushRecorder buf;
  std::ostream out(&buf);
  ASSERT_TRUE(RetryDeadLetters(env_->config(), {}, out).ok());
  const std::string text = buf.str();
  ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  ASSERT_GE(buf.flushed_at.size(), 2u) << text;
  EXPECT_EQ(buf.flushed_at[0], text.find('\n') + 1) << text;
  EXPECT_EQ(buf.flushed_at[1], text.size()) << text;
}

// `retry --id` reads the dead-letter topic from the lowest offset named to the highest, no record
// before or after, and puts back the named letters only; an id it cannot find fails it before any is.
TEST_F(DeadLetterCommandTest, RetryByIdReadsFromTheFirstNamedLetterToTheLastOnly) {
  for (int i = 0; i < 6; ++i) SendDeadLetter(std::to_string(i), "{}", "reason " + std::to_string(i));
  const std::string brokers = env_->config().kafka_brokers, topic = env_->config().Topic(kDeadLetterTopic);
  auto admin = KafkaAdmin::Create(brokers, std::chrono::seconds(30));
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  auto held = (*admin)->Watermarks(topic);
  ASSERT_TRUE(held.ok()) << held.status().ToString();

  const std::vector<std::string> ids = {"chat.deadletter/0/4", "chat.deadletter/0/2"};
  auto range = DeadLetterRange(env_->config(), ids, *held);
  ASSERT_TRUE(range.ok()) << range.status().ToString();
  std::vector<int64_t> read;
  Status s = ForEachRecord(brokers, topic, *range, [&read](const KafkaMessage& m) {
    read.push_back(m.offset);
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(read, (std::vector<int64_t>{2, 3, 4}));

  for (const std::string bad : {"chat.deadletter/0/6", "chat.deadletter/1/0", "chat.deadletter/0/03",
                                "chat.deadletter/0/x", "chat.messages/0/2"}) {
    auto wrong = DeadLetterRange(env_->config(), {"chat.deadletter/0/2", bad}, *held);
    ASSERT_FALSE(wrong.ok()) << bad;
    EXPECT_EQ(wrong.status().name(), "no_dead_letter");
    EXPECT_NE(wrong.status().detail().find("no dead letter " + bad), std::string::npos) << wrong.status().ToString();
  }
  Outcome unknown = Command({"retry", "--id", ids[0], "--id", "chat.deadletter/0/6"});
  EXPECT_EQ(unknown.code, 1) << unknown.output;
  EXPECT_NE(unknown.output.find("no dead letter chat.deadletter/0/6"), std::string::npos) << unknown.output;
  EXPECT_EQ(*env_->QueryInt("SELECT count(*) FROM dead_letter_retries"), 0);

  Outcome run = Command({"retry", "--id", ids[0], "--id", ids[1]});
  ASSERT_EQ(run.code, 0) << run.output;
  for (const char* back : {"chat.deadletter/0/2: put back", "chat.deadletter/0/4: put back"})
    EXPECT_NE(run.output.find(back), std::string::npos) << run.output;
  for (const char* left : {"chat.deadletter/0/0", "chat.deadletter/0/1", "chat.deadletter/0/3", "chat.deadletter/0/5"})
    EXPECT_EQ(run.output.find(left), std::string::npos) << run.output;
  EXPECT_EQ(*env_->QueryInt("SELECT count(*) FROM dead_letter_retries"), 2);
}

}  // namespace
}  // namespace chatpipe
