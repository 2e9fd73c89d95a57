// The producer's two handles (prompt and batching) and the order across them, the producer through a
// broker that goes away and comes back, the readiness checks of the producer and the consumer,
// ForEachRecord's order, ranges and stall, and the admin client through a coordinator that is not
// ready. librdkafka's mock cluster stands in for the broker here only to inject the fault: a
// real broker takes 4 to 20 s to restart on a loaded machine, longer than the timeout the tests are about.
#include "queue/kafka.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "queue/kafka_admin.h"
#include "tests/support/wait.h"

namespace chatpipe {
namespace {

class MockBroker {
 public:
  MockBroker() {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", err, sizeof err);
    host_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    cluster_ = rd_kafka_handle_mock_cluster(host_);
    rd_kafka_mock_topic_create(cluster_, "chat", 1, 1);
  }
  ~MockBroker() { rd_kafka_destroy(host_); }
  void AddTopic(const std::string& name, int partitions) {
    rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, 1);
  }
  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  void Down() { rd_kafka_mock_broker_set_down(cluster_, -1); }
  void Up() { rd_kafka_mock_broker_set_up(cluster_, -1); }
  // Every answer comes this much later: messages stay in flight that long.
  void Delay(std::chrono::milliseconds rtt) { rd_kafka_mock_broker_set_rtt(cluster_, -1, static_cast<int>(rtt.count())); }
  // The next `count` requests of API api_key (Kafka's protocol numbers) fail with err.
  void FailNext(int16_t api_key, size_t count, rd_kafka_resp_err_t err) {
    std::vector<rd_kafka_resp_err_t> errors(count, err);
    rd_kafka_mock_push_request_errors_array(cluster_, api_key, errors.size(), errors.data());
  }
  // The answers to the next `count` requests of API api_key come `delay` late.
  void DelayNext(int16_t api_key, size_t count, std::chrono::milliseconds delay) {
    for (size_t i = 0; i < count; ++i)
      rd_kafka_mock_broker_push_request_error_rtts(cluster_, 1, api_key, 1, RD_KAFKA_RESP_ERR_NO_ERROR,
                                                   static_cast<int>(delay.count()));
  }

 private:
  rd_kafka_t* host_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

constexpr int16_t kFetch = 1;  // Kafka's protocol number for Fetch

// Delivery reports, collected from the producer's poll thread.
struct Reports {
  std::mutex mu;
  std::vector<Status> got;
  KafkaProducer::DeliveryFn Add() {
    return [this](Status s) {
      std::lock_guard<std::mutex> lock(mu);
      got.push_back(std::move(s));
    };
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    return got.size();
  }
};

// Sends "0", "1"... on one key as fast as it can; returns when every report is in, all successful.
void Burst(KafkaProducer& producer, int from, int count, std::chrono::seconds timeout) {
  Reports reports;
  for (int i = from; i < from + count; ++i) producer.Produce("chat", "room", std::to_string(i), reports.Add());
  ASSERT_TRUE(test::WaitFor([&] { return reports.size() == size_t(count); }, timeout));
  for (const Status& s : reports.got) ASSERT_TRUE(s.ok()) << s.ToString();
}

// What /metrics says this process's producers handed to each handle, and how many of them waited.
struct Sent {
  int64_t prompt = 0, batching = 0, held = 0;
  static Sent Now() {
    return {Counter("chatpipe_kafka_sent_total", "", {{"handle", "prompt"}}).value(),
            Counter("chatpipe_kafka_sent_total", "", {{"handle", "batching"}}).value(),
            Counter("chatpipe_kafka_held_total", "").value()};
  }
  Sent operator-(const Sent& o) const { return {prompt - o.prompt, batching - o.batching, held - o.held}; }
};

// The topic's payloads, in the partition's order.
std::vector<std::string> Payloads(const MockBroker& broker) {
  auto read = ReadTopic(broker.bootstraps(), "chat");
  EXPECT_TRUE(read.ok()) << read.status().ToString();
  std::vector<std::string> out;
  if (read.ok())
    for (const KafkaMessage& m : *read) out.push_back(m.payload);
  return out;
}

std::vector<std::string> Numbers(int count) {
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) out.push_back(std::to_string(i));
  return out;
}

TEST(KafkaProducerTest, ABrokerBackWithinTheTimeoutDelaysSendsAndFailsNone) {
  MockBroker broker;
  constexpr auto kTimeout = std::chrono::seconds(8);
  auto producer = KafkaProducer::Create(broker.bootstraps(),
                                        {{"message.timeout.ms", std::to_string(kTimeout.count() * 1000)}});
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  Reports first;
  (*producer)->Produce("chat", "1", "before", first.Add());
  ASSERT_TRUE(test::WaitFor([&] { return first.size() == 1; }, kTimeout));
  ASSERT_TRUE(first.got[0].ok()) << first.got[0].ToString();

  // Away for 5 s, sending all along; the first send made while it was away must then wait about 5 s,
  // inside the 8 s timeout. With librdkafka's default reconnect backoff (doubling up to 10 s) the
  // producer tried the broker again only after they had timed out.
  broker.Down();
  Reports during;
  int sent = 0;
  const auto back_at = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < back_at) {
    (*producer)->Produce("chat", "1", "during " + std::to_string(sent++), during.Add());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // pacing the sends, not waiting for one
  }
  EXPECT_EQ(during.size(), 0u) << "a send failed at once while the broker was away";
  broker.Up();
  ASSERT_TRUE(test::WaitFor([&] { return during.size() == size_t(sent); }, kTimeout + std::chrono::seconds(2)));
  for (const Status& s : during.got) EXPECT_TRUE(s.ok()) << s.ToString();
}

// The tests of the two handles set prompt_below to 50 a second, so that a burst of a few hundred
// passes it many times over whatever the default is.
constexpr double kPromptBelow = 50;

TEST(KafkaProducerTest, AQuietProducerSendsAtOnceAndABusyOneBatches) {
  MockBroker broker;
  auto producer = KafkaProducer::Create(broker.bootstraps(), {}, kPromptBelow);
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  const Sent start = Sent::Now();
  // 10 a second, each sent once the one before is acknowledged: far below kPromptBelow.
  for (int i = 0; i < 5; ++i) {
    ASSERT_NO_FATAL_FAILURE(Burst(**producer, i, 1, std::chrono::seconds(10)));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // pacing the sends, not waiting for one
  }
  const Sent quiet = Sent::Now() - start;
  EXPECT_EQ(quiet.prompt, 5);
  EXPECT_EQ(quiet.batching, 0);
  ASSERT_NO_FATAL_FAILURE(Burst(**producer, 5, 500, std::chrono::seconds(10)));
  const Sent busy = Sent::Now() - start;
  EXPECT_GT(busy.batching, 400) << "a burst went on the prompt handle";
  EXPECT_EQ(busy.prompt + busy.batching, 505);
  // Quiet again: a count of 500 decayed over a second falls below 50 within 2.3 s.
  for (int i = 505; i < 545; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_NO_FATAL_FAILURE(Burst(**producer, i, 1, std::chrono::seconds(10)));
  }
  EXPECT_GE((Sent::Now() - start).prompt, busy.prompt + 15) << "it stayed on the batching handle";
  EXPECT_EQ(Payloads(broker), Numbers(545));
}

// Between the two thresholds the producer stays on the handle it has: 56 a second (prompt_below 50,
// left above 62.5) keeps the prompt handle when it came from quiet, and the batching one after a burst.
TEST(KafkaProducerTest, BetweenTheThresholdsTheProducerKeepsItsHandle) {
  MockBroker broker;
  auto producer = KafkaProducer::Create(broker.bootstraps(), {}, kPromptBelow);
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  Reports reports;
  auto paced = [&](int from, int count) {  // on a fixed schedule, so a late wake-up does not lower the rate
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < count; ++i) {
      std::this_thread::sleep_until(start + i * std::chrono::microseconds(1000000 / 56));
      (*producer)->Produce("chat", "room", std::to_string(from + i), reports.Add());
    }
  };
  const Sent start = Sent::Now();
  paced(0, 112);
  const Sent rising = Sent::Now() - start;
  EXPECT_EQ(rising.prompt, 112) << "it left the prompt handle below 62.5 a second";
  ASSERT_NO_FATAL_FAILURE(Burst(**producer, 112, 300, std::chrono::seconds(10)));
  const Sent middle = Sent::Now();
  paced(412, 112);
  const Sent falling = Sent::Now() - middle;
  EXPECT_EQ(falling.prompt, 0) << "it took the prompt handle back above 50 a second";
  ASSERT_TRUE(test::WaitFor([&] { return reports.size() == 224u; }, std::chrono::seconds(10)));
  for (const Status& s : reports.got) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Payloads(broker), Numbers(524));
}

// The move from the prompt handle to the batching one while the prompt one has messages in flight
// (the broker answers 300 ms late): the burst waits for them, then goes on the batching handle, in order.
TEST(KafkaProducerTest, ABurstWaitsForThePromptHandlesReportsAndKeepsItsOrder) {
  MockBroker broker;
  broker.Delay(std::chrono::milliseconds(300));
  auto producer = KafkaProducer::Create(broker.bootstraps(), {}, kPromptBelow);
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  const Sent start = Sent::Now();
  ASSERT_NO_FATAL_FAILURE(Burst(**producer, 0, 300, std::chrono::seconds(20)));
  const Sent counts = Sent::Now() - start;
  EXPECT_GT(counts.prompt, 0);
  EXPECT_GT(counts.held, 200);
  EXPECT_EQ(counts.batching, counts.held) << "held messages went elsewhere";
  EXPECT_EQ(counts.prompt + counts.batching, 300);
  broker.Delay(std::chrono::milliseconds(0));
  EXPECT_EQ(Payloads(broker), Numbers(300));
}

// A wait that grows past kMaxHeld (a slow or absent broker) is given up: what waited goes on the
// prompt handle, still in order, and nothing fails.
TEST(KafkaProducerTest, AWaitPastTheBoundGoesOnThePromptHandleInOrder) {
  MockBroker broker;
  broker.Delay(std::chrono::milliseconds(300));
  auto producer = KafkaProducer::Create(broker.bootstraps(), {}, kPromptBelow);
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  const int count = static_cast<int>(KafkaProducer::kMaxHeld) + 300;
  const Sent start = Sent::Now();
  ASSERT_NO_FATAL_FAILURE(Burst(**producer, 0, count, std::chrono::seconds(20)));
  const Sent counts = Sent::Now() - start;
  EXPECT_GT(counts.prompt, static_cast<int64_t>(KafkaProducer::kMaxHeld)) << "the wait was not given up";
  EXPECT_GT(counts.batching, 0);
  EXPECT_EQ(counts.prompt + counts.batching, count);
  broker.Delay(std::chrono::milliseconds(0));
  EXPECT_EQ(Payloads(broker), Numbers(count));
}

TEST(KafkaProducerTest, NoLingerMeansOneHandle) {
  MockBroker broker;
  auto producer = KafkaProducer::Create(broker.bootstraps(), {{"linger.ms", "0"}});
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  const Sent start = Sent::Now();
  ASSERT_NO_FATAL_FAILURE(Burst(**producer, 0, 1, std::chrono::seconds(10)));
  const Sent counts = Sent::Now() - start;
  EXPECT_EQ(counts.prompt, 0);
  EXPECT_EQ(counts.batching, 1);
}

TEST(KafkaProducerTest, CheckTopicSaysWhetherTheTopicCanTakeMessages) {
  MockBroker broker;
  auto producer = KafkaProducer::Create(broker.bootstraps());
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  Status s = (*producer)->CheckTopic("chat", std::chrono::seconds(5));
  EXPECT_TRUE(s.ok()) << s.ToString();
  broker.Down();
  ASSERT_TRUE(test::WaitFor([&] {
    s = (*producer)->CheckTopic("chat", std::chrono::milliseconds(300));
    return !s.ok();
  }, std::chrono::seconds(10)));
  EXPECT_EQ(s.name(), "queue_unavailable");
  broker.Up();
  EXPECT_TRUE(test::WaitFor([&] { return (*producer)->CheckTopic("chat", std::chrono::milliseconds(300)).ok(); },
                            std::chrono::seconds(10)));
}

// Where the records ForEachRecord hands over are, in the order it hands them over.
using Place = std::pair<int32_t, int64_t>;
std::vector<Place> Places(const MockBroker& broker, const std::string& topic, const ReadOptions& options) {
  std::vector<Place> out;
  Status s = ForEachRecord(broker.bootstraps(), topic, options, [&out](const KafkaMessage& m) {
    out.emplace_back(m.partition, m.offset);
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

TEST(ForEachRecordTest, ReadsPartitionByPartitionInOffsetOrderWithinTheRangesAsked) {
  MockBroker broker;
  broker.AddTopic("rooms", 3);
  auto producer = KafkaProducer::Create(broker.bootstraps());
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  Reports reports;
  for (int i = 0; i < 30; ++i) (*producer)->Produce("rooms", "room " + std::to_string(i), "", reports.Add());
  ASSERT_TRUE(test::WaitFor([&] { return reports.size() == 30u; }));
  for (const Status& s : reports.got) ASSERT_TRUE(s.ok()) << s.ToString();

  std::vector<Place> all = Places(broker, "rooms", {});
  ASSERT_EQ(all.size(), 30u);
  std::map<int32_t, int64_t> count;  // per partition
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].second, count[all[i].first]++) << "offsets in order, none left out";
    if (i > 0) {
      EXPECT_LT(all[i - 1], all[i]) << "by partition, then offset";
    }
  }
  ASSERT_EQ(count.size(), 3u);
  ASSERT_GE(count[1], 3) << "the keys put too few records on partition 1 for the range below";

  ReadOptions last;
  last.last = 2;
  std::vector<Place> newest;
  for (const auto& [p, n] : count)
    for (int64_t o = std::max<int64_t>(0, n - 2); o < n; ++o) newest.emplace_back(p, o);
  EXPECT_EQ(Places(broker, "rooms", last), newest);

  ReadOptions some;
  some.partitions = {{1, {1, 3}}, {7, {0, 5}}};  // the topic has no partition 7
  EXPECT_EQ(Places(broker, "rooms", some), (std::vector<Place>{{1, 1}, {1, 2}}));

  // The callback's failure ends the read, and is what it returns.
  int seen = 0;
  Status s = ForEachRecord(broker.bootstraps(), "rooms", {}, [&seen](const KafkaMessage&) {
    return ++seen == 3 ? Status::Internal("enough") : Status::Ok();
  });
  EXPECT_EQ(s.detail(), "enough");
  EXPECT_EQ(seen, 3);
}

// The stall bounds the wait for each record, not the read: a broker answering every fetch 300 ms
// late with one record (the mock broker answers a fetch with one producer batch, and each record
// here is sent alone) is read to the end, 2.4 s at least, with a stall of 1.5 s.
TEST(ForEachRecordTest, AReadLongerInAllThanTheStallTimeGoesOnWhileRecordsCome) {
  MockBroker broker;
  auto producer = KafkaProducer::Create(broker.bootstraps());
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  for (int i = 0; i < 8; ++i) ASSERT_NO_FATAL_FAILURE(Burst(**producer, i, 1, std::chrono::seconds(10)));
  broker.DelayNext(kFetch, 20, std::chrono::milliseconds(300));

  ReadOptions options;
  options.stall = std::chrono::milliseconds(1500);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Places(broker, "chat", options).size(), 8u);
  EXPECT_GT(std::chrono::steady_clock::now() - start, options.stall) << "the test is about a read longer than that";
}

// A broker that stops answering fetches (they come back 30 s late) once the read has its watermarks:
// the read fails once no record has come for `stall`, naming the partition and the offset it got to.
TEST(ForEachRecordTest, AReadWithNoRecordForTheStallTimeFailsSayingWhereItGot) {
  MockBroker broker;
  auto producer = KafkaProducer::Create(broker.bootstraps());
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  ASSERT_NO_FATAL_FAILURE(Burst(**producer, 0, 40, std::chrono::seconds(10)));
  broker.DelayNext(kFetch, 3, std::chrono::seconds(30));

  ReadOptions options;
  options.stall = std::chrono::seconds(1);
  options.partitions = {{0, {5, 40}}};
  int seen = 0;
  Status s = ForEachRecord(broker.bootstraps(), "chat", options, [&seen](const KafkaMessage&) {
    ++seen;
    return Status::Ok();
  });
  EXPECT_EQ(s.name(), "queue_unavailable");
  EXPECT_NE(s.detail().find("nothing read from chat/0 for 1 s; it got to offset 5 of 40"), std::string::npos)
      << s.ToString();
  EXPECT_EQ(seen, 0);
}

TEST(BatchConsumerTest, CheckJoinedOnceInTheGroupAndNotWhenTheClusterIsAway) {
  MockBroker broker;
  auto consumer = BatchConsumer::Create(broker.bootstraps(), "g", {"chat"});
  ASSERT_TRUE(consumer.ok()) << consumer.status().ToString();
  Status s = (*consumer)->CheckJoined(std::chrono::milliseconds(300));
  EXPECT_FALSE(s.ok());  // just created: not in the group yet
  ASSERT_TRUE(test::WaitFor([&](std::chrono::milliseconds left) {
    (*consumer)->Poll(10, std::min(left, std::chrono::milliseconds(50)));  // serves the rebalance
    s = (*consumer)->CheckJoined(std::chrono::milliseconds(300));
    return s.ok();
  }, std::chrono::seconds(20))) << s.ToString();
  broker.Down();
  EXPECT_TRUE(test::WaitFor([&] {
    s = (*consumer)->CheckJoined(std::chrono::milliseconds(300));
    return !s.ok();
  }, std::chrono::seconds(10)));
  EXPECT_EQ(s.name(), "queue_unavailable");
  broker.Up();
  (*consumer)->Close();
  s = (*consumer)->CheckJoined(std::chrono::milliseconds(300));
  EXPECT_NE(s.detail().find("left its group"), std::string::npos) << s.ToString();
}

// A fresh broker answers NOT_COORDINATOR for a while (as a CI run saw); asked again, it answers.
TEST(KafkaAdminTest, ANotCoordinatorAnswerIsAskedAgain) {
  MockBroker broker;
  auto admin = KafkaAdmin::Create(broker.bootstraps(), std::chrono::seconds(10));
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  constexpr int16_t kOffsetFetch = 9;  // ListConsumerGroupOffsets asks with it
  broker.FailNext(kOffsetFetch, 2, RD_KAFKA_RESP_ERR_NOT_COORDINATOR);
  auto offsets = (*admin)->CommittedOffsets("g");
  ASSERT_TRUE(offsets.ok()) << offsets.status().ToString();
  EXPECT_TRUE(offsets->empty());
  broker.FailNext(kOffsetFetch, 1, RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED);  // not one to wait out
  offsets = (*admin)->CommittedOffsets("g");
  ASSERT_FALSE(offsets.ok());
  EXPECT_EQ(offsets.status().name(), "queue_unavailable");
}

}  // namespace
}  // namespace chatpipe
