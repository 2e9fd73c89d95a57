// KafkaAdmin against the suite's real Kafka: a group's offsets read and altered, watermarks, the
// offsets of a time, and a live member seen; and a BatchConsumer's lag, which the admin reads back.
#include "queue/kafka_admin.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "queue/kafka.h"
#include "tests/support/wait.h"
#include "tests/support/worker_env.h"

namespace chatpipe {
namespace {

using namespace std::chrono_literals;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class KafkaAdminTest : public test::WorkerEnvTest {
 protected:
  void SetUp() override {
    WorkerEnvTest::SetUp();
    if (HasFatalFailure()) return;
    auto admin = KafkaAdmin::Create(env_->config().kafka_brokers, 30s);
    ASSERT_TRUE(admin.ok());
    admin_ = std::move(*admin);
    topic_ = env_->config().Topic(kMessagesTopic);
  }

  std::unique_ptr<KafkaAdmin> admin_;
  std::string topic_;
};

TEST_F(KafkaAdminTest, WatermarksAndTheOffsetsOfATime) {
  ASSERT_TRUE(env_->ProduceRaw("k", "1").ok());  // one key: one partition
  const int64_t between = NowMs() + 1;
  ASSERT_TRUE(test::WaitFor([&] { return NowMs() > between; }, 1s));
  ASSERT_TRUE(env_->ProduceRaw("k", "2").ok());
  auto marks = admin_->Watermarks(topic_);
  ASSERT_TRUE(marks.ok()) << marks.status().ToString();
  ASSERT_EQ(marks->size(), 2u);  // WorkerTestEnv's topics
  auto used = std::find_if(marks->begin(), marks->end(), [](const Watermark& w) { return w.high > 0; });
  ASSERT_NE(used, marks->end());
  EXPECT_EQ(used->low, 0);
  EXPECT_EQ(used->high, 2);
  const size_t p = static_cast<size_t>(used - marks->begin());
  auto at = admin_->OffsetsForTime(topic_, between);
  ASSERT_TRUE(at.ok()) << at.status().ToString();
  EXPECT_EQ((*at)[p], 1);  // the second message
  auto later = admin_->OffsetsForTime(topic_, NowMs() + 60000);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ((*later)[p], 2);  // none at or after: the end
  EXPECT_EQ(admin_->Watermarks(env_->config().Topic("no.such.topic")).status().name(), "no_topic");
}

TEST_F(KafkaAdminTest, AGroupsOffsetsAreReadAndAlteredAndItsMembersSeen) {
  const std::string group = env_->config().Group("admin");
  auto none = admin_->CommittedOffsets(group);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(env_->ProduceRaw("k", "1").ok());
  ASSERT_TRUE(admin_->AlterOffsets(group, {{{topic_, 0}, 0}, {{topic_, 1}, 0}}).ok());
  auto set = admin_->CommittedOffsets(group);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(*set, (PartitionOffsets{{{topic_, 0}, 0}, {{topic_, 1}, 0}}));
  auto listed = admin_->ListGroups();
  ASSERT_TRUE(listed.ok());
  EXPECT_NE(std::find(listed->begin(), listed->end(), group), listed->end());

  auto consumer = BatchConsumer::Create(env_->config().kafka_brokers, group, {topic_}, {{"client.id", "admin-test"}});
  ASSERT_TRUE(consumer.ok());
  Result<GroupDescription> d = Status::Internal("not asked");
  ASSERT_TRUE(test::WaitFor([&] {
    (*consumer)->Poll(1, 10ms);  // joins on poll
    d = admin_->DescribeGroup(group);
    return d.ok() && d->members.size() == 1 && d->members[0].partitions.size() == 2;
  }));
  EXPECT_EQ(d->state, "Stable");
  EXPECT_EQ(d->members[0].client_id, "admin-test");
  // Kafka refuses to move the offsets of a topic a live member subscribes to.
  EXPECT_FALSE(admin_->AlterOffsets(group, {{{topic_, 0}, 1}}).ok());
  (*consumer)->Close();  // leaves the group
  EXPECT_TRUE(test::WaitFor([&] {
    auto left = admin_->DescribeGroup(group);
    return left.ok() && left->members.empty();
  }));
}

TEST_F(KafkaAdminTest, AConsumersLagCountsWhatIsReadButNotStoredAndWhatIsUnread) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(env_->ProduceRaw("k", std::to_string(i)).ok());  // one partition
  auto consumer = BatchConsumer::Create(env_->config().kafka_brokers, env_->config().Group("lag"), {topic_});
  ASSERT_TRUE(consumer.ok());
  std::vector<KafkaMessage> read;
  ASSERT_TRUE(test::WaitFor([&] {
    auto got = (*consumer)->Poll(3 - read.size(), 50ms);
    read.insert(read.end(), got.begin(), got.end());
    return read.size() == 3;
  }));
  EXPECT_EQ((*consumer)->Lag(), 10) << "read to offset 3, nothing stored: all ten wait";
  ASSERT_TRUE((*consumer)->Store({read[0]}).ok());
  EXPECT_EQ((*consumer)->Lag(), 9);
  ASSERT_TRUE((*consumer)->Store(read).ok());
  EXPECT_EQ((*consumer)->Lag(), 7);
  ASSERT_TRUE(env_->ProduceRaw("k", "10").ok());
  EXPECT_TRUE(test::WaitFor([&] {
    (*consumer)->Poll(1, 50ms);  // reading on stores nothing; the fetch of the new one moves the high watermark
    return (*consumer)->Lag() == 8;
  })) << "lag " << (*consumer)->Lag();
}

}  // namespace
}  // namespace chatpipe
