#include "bench/loadgen/timeline.h"

#include <gtest/gtest.h>

namespace chatpipe::bench {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

TEST(TimelineTest, CountsEachMessageInTheWindowOfItsSendTime) {
  Timeline t;
  t.Start(100 * kSecond, 5 * kSecond);
  t.Sent(100 * kSecond);                  // window 0, its first instant
  t.Sent(105 * kSecond - 1);              // window 0, its last
  t.Sent(105 * kSecond);                  // window 1
  t.Acked(101 * kSecond);                 // acks and deliveries go by the send time, not arrival
  t.Delivered(101 * kSecond, 2500);
  t.Delivered(112 * kSecond, 40000);      // window 2: the vector grows to hold it
  ASSERT_EQ(t.windows().size(), 3u);
  EXPECT_EQ(t.windows()[0].sent, 2u);
  EXPECT_EQ(t.windows()[0].acked, 1u);
  EXPECT_EQ(t.windows()[0].delivered, 1u);
  EXPECT_EQ(t.windows()[0].delivery_us.max(), 2500u);
  EXPECT_EQ(t.windows()[1].sent, 1u);
  EXPECT_EQ(t.windows()[1].delivered, 0u);
  EXPECT_EQ(t.windows()[2].delivery_us.max(), 40000u);
}

TEST(TimelineTest, OffBeforeStartAndOutsideItsBounds) {
  Timeline off;
  off.Sent(5);
  EXPECT_FALSE(off.on());
  EXPECT_TRUE(off.windows().empty());
  off.Start(0, 0);  // no width: stays off
  EXPECT_FALSE(off.on());

  Timeline t;
  t.Start(10 * kSecond, kSecond);
  t.Sent(9 * kSecond);                                       // before the start
  t.Sent(10 * kSecond + Timeline::kMaxWindows * kSecond);    // past the last window
  EXPECT_TRUE(t.windows().empty());
  t.Sent(10 * kSecond + (Timeline::kMaxWindows - 1) * kSecond);
  EXPECT_EQ(t.windows().size(), Timeline::kMaxWindows);
}

TEST(TimelineTest, MergeAddsWindowByWindowAndJsonRoundTrips) {
  Timeline a, b;
  a.Start(kSecond, kSecond);
  b.Start(kSecond, kSecond);
  a.Sent(kSecond);
  b.Sent(kSecond);
  b.Delivered(3 * kSecond, 7);
  Timeline other_start;
  other_start.Start(2 * kSecond, kSecond);
  EXPECT_TRUE(a.Compatible(b));
  EXPECT_FALSE(a.Compatible(other_start));
  EXPECT_TRUE(a.Compatible(Timeline()));

  Timeline merged;  // off: takes the first one's cut
  merged.Merge(a);
  merged.Merge(b);
  ASSERT_EQ(merged.windows().size(), 3u);
  EXPECT_EQ(merged.windows()[0].sent, 2u);
  EXPECT_EQ(merged.windows()[2].delivered, 1u);

  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  merged.WriteJson(w);
  rapidjson::Document doc;
  doc.Parse(buf.GetString());
  auto back = Timeline::FromJson(doc);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->start_ns(), kSecond);
  EXPECT_EQ(back->window_ns(), kSecond);
  ASSERT_EQ(back->windows().size(), 3u);
  EXPECT_EQ(back->windows()[0].sent, 2u);
  EXPECT_EQ(back->windows()[2].delivery_us.max(), 7u);

  doc.Parse(R"({"start_ns":1,"window_ns":0,"windows":[]})");
  EXPECT_FALSE(Timeline::FromJson(doc).ok());
  doc.Parse(R"({"start_ns":1,"window_ns":5,"windows":[{"sent":1}]})");
  EXPECT_FALSE(Timeline::FromJson(doc).ok());
}

}  // namespace
}  // namespace chatpipe::bench
