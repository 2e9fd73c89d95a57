#include "bench/loadgen/rooms.h"

#include <gtest/gtest.h>

#include <tuple>

#include "bench/loadgen/stats.h"

namespace chatpipe::bench {
namespace {

// `n` deliveries to `room` of `s`, `late` of them at `slow_us`, the rest at `fast_us`.
void Deliver(Stats* s, int64_t room, int n, int late, uint64_t fast_us, uint64_t slow_us) {
  for (int i = 0; i < n; ++i) s->delivery_us_by_room[room].Record(i < late ? slow_us : fast_us);
}

// with_members, without_messages, short_of_expected, deliveries_min, deliveries_max
using Counted = std::tuple<size_t, size_t, size_t, uint64_t, uint64_t>;
Counted Counts(const RoomFigures& f) {
  return {f.with_members, f.without_messages, f.short_of_expected, f.deliveries_min, f.deliveries_max};
}

Stats ThroughJson(const Stats& s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  s.WriteJson(w);
  rapidjson::Document doc;
  doc.Parse(buf.GetString());
  auto back = Stats::FromJson(doc);
  EXPECT_TRUE(back.ok()) << back.status().ToString();
  return back.ok() ? *back : Stats{};
}

TEST(RoomsTest, PerRoomHistogramsMergeRoomByRoomAcrossProcesses) {
  // Two processes hold members of the same rooms: room 1's slow tail is all in process b, so only
  // the merge bucket by bucket shows it (room 1's p99 in a alone would be 100 us).
  Stats a, b;
  Deliver(&a, 1, 100, 0, 100, 0);
  Deliver(&b, 1, 100, 10, 100, 50'000);
  Deliver(&a, 2, 50, 0, 200, 0);
  Stats merged;
  merged.Merge(ThroughJson(a));
  merged.Merge(ThroughJson(b));
  ASSERT_EQ(merged.delivery_us_by_room.size(), 2u);
  EXPECT_EQ(merged.delivery_us_by_room.at(1).count(), 200u);
  EXPECT_GE(merged.delivery_us_by_room.at(1).ValueAt(99), 50'000u);
  EXPECT_LE(merged.delivery_us_by_room.at(1).ValueAt(90), 100u);
  EXPECT_EQ(merged.delivery_us_by_room.at(2).count(), 50u);
}

TEST(RoomsTest, MedianAndWorstRoomAreChosenByTheirP99) {
  Stats s;
  // Five rooms whose p99s are 1, 2, 3, 4 and 9 ms (ids out of that order); p50s 20 .. 100 us (exact below 256).
  const std::pair<int64_t, uint64_t> rooms[] = {{10, 3000}, {11, 9000}, {12, 1000}, {13, 4000}, {14, 2000}};
  for (const auto& [room, p99] : rooms) {
    Deliver(&s, room, 100, 2, (room - 9) * 20, p99);
    s.acked_by_room[room] = 10;
    s.members_by_room[room] = 10;
  }
  const RoomFigures f = SummarizeRooms(s.delivery_us_by_room, s.acked_by_room, s.members_by_room);
  EXPECT_EQ(f.measured, 5u);
  EXPECT_NEAR(static_cast<double>(f.p99_median_us), 3000, 30);  // within the histogram's 1%
  EXPECT_NEAR(static_cast<double>(f.p99_worst_us), 9000, 90);
  EXPECT_EQ(f.worst_room, 11);
  EXPECT_EQ(f.p50_median_us, 60u);
  EXPECT_EQ(Counts(f), (Counted{5, 0, 0, 100, 100}));
}

TEST(RoomsTest, AnEvenCountTakesTheUpperMiddleAndEqualsTheLowestId) {
  Stats s;
  Deliver(&s, 5, 10, 0, 700, 0);
  Deliver(&s, 3, 10, 0, 700, 0);
  Deliver(&s, 4, 10, 0, 100, 0);
  Deliver(&s, 6, 10, 0, 200, 0);
  const RoomFigures f = SummarizeRooms(s.delivery_us_by_room, {}, {});
  EXPECT_EQ(f.p99_median_us, 700u);  // of 100, 200, 700, 700
  EXPECT_EQ(f.worst_room, 3);
}

TEST(RoomsTest, RoomsWithoutMessagesOrShortOfExpectedAreCounted) {
  Stats s;
  Deliver(&s, 1, 20, 0, 100, 0);     // 2 acked x 10 members: all there
  Deliver(&s, 2, 15, 0, 100, 0);     // 2 x 10 expected, 15 came
  s.acked_by_room = {{1, 2}, {2, 2}};
  s.members_by_room = {{1, 10}, {2, 10}, {3, 10}};  // room 3: members, no sender
  const RoomFigures f = SummarizeRooms(s.delivery_us_by_room, s.acked_by_room, s.members_by_room);
  EXPECT_EQ(f.measured, 2u);
  EXPECT_EQ(Counts(f), (Counted{3, 1, 1, 0, 20}));
}

}  // namespace
}  // namespace chatpipe::bench
