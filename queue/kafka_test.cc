// The producer through a broker that goes away and comes back, the readiness checks of the producer
// and the consumer, and the admin client through a coordinator that is not ready. librdkafka's mock cluster stands in for the broker here only to inject the fault: a
// real broker takes 4 to 20 s to restart on a loaded machine, longer than the timeout the tests are about.
#include "queue/kafka.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <mutex>
#include <thread>
#include <vector>

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
  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  void Down() { rd_kafka_mock_broker_set_down(cluster_, -1); }
  void Up() { rd_kafka_mock_broker_set_up(cluster_, -1); }
  // The next `count` requests of API api_key (Kafka's protocol numbers) fail with err.
  void FailNext(int16_t api_key, size_t count, rd_kafka_resp_err_t err) {
    std::vector<rd_kafka_resp_err_t> errors(count, err);
    rd_kafka_mock_push_request_errors_array(cluster_, api_key, errors.size(), errors.data());
  }

 private:
  rd_kafka_t* host_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

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
