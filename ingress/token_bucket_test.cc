#include "ingress/token_bucket.h"

#include <gtest/gtest.h>

#include <sstream>

namespace chatpipe {
namespace {

BucketSpec Spec(const char* text) {
  auto spec = ParseBucketSpec(text);
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return spec.value_or(BucketSpec{});
}

TEST(TokenBucketTest, ABurstPassesThenOneTokenPerPeriodOverN) {
  const BucketSpec spec = Spec("3/300ms");  // 3 at once, then one every 100 ms
  TokenBucket bucket;
  int64_t now = 5000;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bucket.Take(spec, now), 0) << "take " << i << " of the burst";
  EXPECT_EQ(bucket.Take(spec, now), 100) << "empty: the next token is 100 ms away";
  EXPECT_EQ(bucket.Take(spec, now + 40), 60) << "a refused take costs nothing and the wait shrinks";
  EXPECT_EQ(bucket.Take(spec, now + 100), 0);
  EXPECT_EQ(bucket.Take(spec, now + 100), 100);
  // A long pause refills to the burst, never beyond it.
  now += 10000;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bucket.Take(spec, now), 0);
  EXPECT_GT(bucket.Take(spec, now), 0);
}

TEST(TokenBucketTest, AClockThatStandsStillOrGoesBackRefillsNothing) {
  const BucketSpec spec = Spec("1/1s");
  TokenBucket bucket;
  EXPECT_EQ(bucket.Take(spec, 10000), 0);
  EXPECT_EQ(bucket.Take(spec, 9000), 1000);
  EXPECT_EQ(bucket.Take(spec, 10999), 1);
  EXPECT_EQ(bucket.Take(spec, 11000), 0);
}

TEST(TokenBucketTest, OffLetsEverythingThrough) {
  const BucketSpec spec = Spec("off");
  EXPECT_TRUE(spec.off());
  TokenBucket bucket;
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(bucket.Take(spec, 0), 0);
}

TEST(TokenBucketTest, SpecsParseAndPrintBack) {
  struct Case {
    const char* text;
    int burst;
    int64_t period_ms;
    const char* printed;
  };
  for (const Case& c : {Case{"30/10s", 30, 10000, "30/10s"}, Case{"5/m", 5, 60000, "5/1m"},
                        Case{"3/200ms", 3, 200, "3/200ms"}, Case{"10/1h", 10, 3600000, "10/1h"},
                        Case{"60/90s", 60, 90000, "60/90s"}}) {
    BucketSpec spec = Spec(c.text);
    EXPECT_EQ(spec.burst, c.burst) << c.text;
    EXPECT_EQ(spec.period_ms, c.period_ms) << c.text;
    EXPECT_EQ(spec.ToString(), c.printed);
  }
  for (const char* bad : {"", "30", "30/", "0/1s", "-1/1s", "30/10", "30/10x", "30/0s", "x/1s", "30/1s ", "2000000/1s"})
    EXPECT_FALSE(ParseBucketSpec(bad).ok()) << '"' << bad << '"';
  BucketSpec streamed;
  std::istringstream in("7/2s");
  in >> streamed;
  EXPECT_EQ(streamed.ToString(), "7/2s");
  std::istringstream wrong("7/2");
  wrong >> streamed;
  EXPECT_TRUE(wrong.fail());
}

}  // namespace
}  // namespace chatpipe
