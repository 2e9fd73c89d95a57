#include "workers/mail/send_limiter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <random>

#include "common/config.h"
#include "tests/support/wait.h"

namespace chatpipe::mail {
namespace {

using test::WaitFor;

bool Admitted(const Result<SendLimiter::Admission>& r) { return r.ok() && *r == SendLimiter::Admission::kAdmitted; }

class SendLimiterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* addr = getenv("CHATPIPE_REDIS");
    ASSERT_TRUE(addr && *addr) << "CHATPIPE_REDIS must name a running Redis (run under ops/test)";
    config_.redis_addr = addr;
    prefix_ = "limtest_" + std::to_string(getpid()) + "_" + std::to_string(std::random_device{}()) + ":";
  }
  std::unique_ptr<RedisClient> Client() {
    return std::make_unique<RedisClient>(config_.RedisShards());
  }
  CommonConfig config_;
  std::string prefix_;
};

TEST_F(SendLimiterTest, BurstThenThrottledWithAnExactHint) {
  auto redis = Client();
  SendLimiter limiter(redis.get(), prefix_, SendLimits{10, 3, 100});
  int64_t wait = -1;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Admitted(limiter.Admit("s" + std::to_string(i), &wait))) << i;
  auto s = limiter.Admit("s3", &wait);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*s, SendLimiter::Admission::kThrottled);
  EXPECT_GT(wait, 0);
  EXPECT_LE(wait, 100);  // one token at 10/s
  // After the hinted wait (polled, not slept), the next send is admitted.
  EXPECT_TRUE(WaitFor([&] { return Admitted(limiter.Admit("s3", &wait)); }, std::chrono::seconds(5)));
  EXPECT_EQ(*limiter.SentInWindow(), 4);
}

TEST_F(SendLimiterTest, QuotaRefusesUntilTheOldestSendLeavesTheWindow) {
  auto redis = Client();
  SendLimiter limiter(redis.get(), prefix_, SendLimits{1000, 1000, 3, 60000});
  int64_t wait = -1;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Admitted(limiter.Admit("q" + std::to_string(i), &wait)));
  auto s = limiter.Admit("q3", &wait);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*s, SendLimiter::Admission::kOverQuota);
  EXPECT_GT(wait, 55000);
  EXPECT_LE(wait, 60001);
  EXPECT_EQ(*limiter.SentInWindow(), 3);
  // A refused send takes no token: the quota refusal left the bucket as it was.
  auto bucket = redis->Command({"HGET", limiter.rate_key(), "tokens"});
  ASSERT_TRUE(bucket.ok());
  EXPECT_GE(std::stod(bucket->str), 996.0);
}

TEST_F(SendLimiterTest, RollingWindowFreesRoom) {
  auto redis = Client();
  SendLimiter limiter(redis.get(), prefix_, SendLimits{1000, 1000, 2, 300});
  int64_t wait = -1;
  ASSERT_TRUE(Admitted(limiter.Admit("a", &wait)));
  ASSERT_TRUE(Admitted(limiter.Admit("b", &wait)));
  auto third = limiter.Admit("c", &wait);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(*third, SendLimiter::Admission::kOverQuota);
  EXPECT_LE(wait, 301);
  EXPECT_TRUE(WaitFor([&] { return Admitted(limiter.Admit("c", &wait)); }, std::chrono::seconds(5)));
}

TEST_F(SendLimiterTest, TwoClientsShareOneBucketAndQuota) {
  auto r1 = Client(), r2 = Client();
  // A rate so slow nothing refills during the test: only the burst of 2 exists, for both together.
  SendLimiter a(r1.get(), prefix_, SendLimits{0.001, 2, 100});
  SendLimiter b(r2.get(), prefix_, SendLimits{0.001, 2, 100});
  int64_t wait = 0;
  EXPECT_TRUE(Admitted(a.Admit("1", &wait)));
  EXPECT_TRUE(Admitted(b.Admit("2", &wait)));
  EXPECT_EQ(*a.Admit("3", &wait), SendLimiter::Admission::kThrottled);
  EXPECT_EQ(*b.Admit("4", &wait), SendLimiter::Admission::kThrottled);
  EXPECT_EQ(*b.SentInWindow(), 2);
}

TEST_F(SendLimiterTest, FailsClosedWithoutRedis) {
  RedisClient nowhere("127.0.0.1", 1);
  SendLimiter limiter(&nowhere, prefix_, SendLimits{});
  int64_t wait = 0;
  EXPECT_EQ(limiter.Admit("x", &wait).status().name(), "redis_unavailable");
}

}  // namespace
}  // namespace chatpipe::mail
