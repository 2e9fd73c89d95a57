#include "bench/loadgen/stats.h"

#include <gtest/gtest.h>

namespace chatpipe::bench {
namespace {

Stats Sample() {
  Stats s;
  s.connected = 10;
  s.sent = 100;
  s.acked = 98;
  s.unacked = 1;
  s.delivered = 980;
  s.duplicates = 2;
  s.connect_start_ns = 1000;
  s.connect_done_ns = 5000;
  s.last_delivery_ns = 9000;
  s.send_errors["busy"] = 1;
  s.acked_by_room[7] = 98;
  s.members_by_room[7] = 10;
  s.delivery_us.Record(1500);
  s.delivery_us.Record(42);
  s.sender_delivery_us.Record(42);
  return s;
}

rapidjson::Document ToDocument(const Stats& s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  s.WriteJson(w);
  rapidjson::Document doc;
  doc.Parse(buf.GetString());
  return doc;
}

TEST(StatsTest, JsonRoundTripThenMergeAddsCountsAndWidensTimes) {
  auto back = Stats::FromJson(ToDocument(Sample()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->acked, 98u);
  EXPECT_EQ(back->send_errors.at("busy"), 1u);
  EXPECT_EQ(back->members_by_room.at(7), 10u);
  EXPECT_EQ(back->delivery_us.count(), 2u);

  Stats later = Sample();
  later.connect_start_ns = 500;
  later.connect_done_ns = 7000;
  later.members_by_room[8] = 3;
  back->Merge(later);
  EXPECT_EQ(back->acked, 196u);
  EXPECT_EQ(back->delivered, 1960u);
  EXPECT_EQ(back->send_errors.at("busy"), 2u);
  EXPECT_EQ(back->acked_by_room.at(7), 196u);
  EXPECT_EQ(back->members_by_room.at(8), 3u);
  EXPECT_EQ(back->connect_start_ns, 500);  // earliest start
  EXPECT_EQ(back->connect_done_ns, 7000);  // latest end
  EXPECT_EQ(back->delivery_us.count(), 4u);
  EXPECT_EQ(back->delivery_us.max(), 1500u);
  EXPECT_EQ(back->sender_delivery_us.count(), 2u);
  EXPECT_EQ(back->sender_delivery_us.max(), 42u);
}

TEST(StatsTest, MergingIntoEmptyStatsKeepsTheOtherTimes) {
  Stats empty;
  empty.Merge(Sample());
  EXPECT_EQ(empty.connect_start_ns, 1000);
  EXPECT_EQ(empty.first_send_ns, 0);
}

TEST(StatsTest, ResultWithAMissingOrMistypedFieldIsRefused) {
  rapidjson::Document doc = ToDocument(Sample());
  doc.RemoveMember("acked");
  EXPECT_FALSE(Stats::FromJson(doc).ok());
  doc = ToDocument(Sample());
  doc["acked_by_room"].AddMember("not-a-room", 1, doc.GetAllocator());
  EXPECT_FALSE(Stats::FromJson(doc).ok());
}

TEST(StatsTest, PerRoomHistogramsRoundTripAndABadOneIsRefused) {
  Stats s = Sample();
  s.delivery_us_by_room[7].Record(1500);
  rapidjson::Document doc = ToDocument(s);
  auto back = Stats::FromJson(doc);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->delivery_us_by_room.at(7).max(), 1500u);
  doc["delivery_us_by_room"].AddMember("x7", rapidjson::Value(rapidjson::kObjectType), doc.GetAllocator());
  EXPECT_FALSE(Stats::FromJson(doc).ok());
  doc.RemoveMember("delivery_us_by_room");  // a result from before per-room histograms
  auto old = Stats::FromJson(doc);
  ASSERT_TRUE(old.ok());
  EXPECT_TRUE(old->delivery_us_by_room.empty());
}

}  // namespace
}  // namespace chatpipe::bench
