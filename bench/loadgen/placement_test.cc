#include "bench/loadgen/placement.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace chatpipe::bench {
namespace {

// Splits the members over `procs` processes as bench/run does (contiguous, the first ones one
// larger) and counts each room's and each process's senders.
struct Split {
  std::map<int64_t, int64_t> by_room, by_proc;
  int64_t total = 0;
};
Split SendersOver(const Placement& p, int64_t procs) {
  Split s;
  int64_t base = 0;
  for (int64_t i = 0; i < procs; ++i) {
    const int64_t n = p.members / procs + (i < p.members % procs ? 1 : 0);
    for (int64_t local = 0; local < n; ++local) {
      if (!p.IsSender(base + local)) continue;
      s.by_room[p.RoomOf(base + local)]++;
      s.by_proc[i]++;
      s.total++;
    }
    base += n;
  }
  return s;
}

TEST(PlacementTest, EveryRoomGetsItsShareOfSendersWhateverTheProcesses) {
  for (const Placement p : {Placement{2000, 20, 20}, Placement{2000, 20, 40}, Placement{100000, 1000, 1000},
                            Placement{19000, 1000, 2000}, Placement{2000, 20, 30}}) {
    for (int64_t procs : {1, 2, 3, 7, 10}) {
      const Split s = SendersOver(p, procs);
      EXPECT_EQ(s.total, p.senders) << p.members << " members, " << procs << " processes";
      ASSERT_EQ(static_cast<int64_t>(s.by_room.size()), p.rooms) << procs << " processes";
      for (const auto& [room, n] : s.by_room) {
        EXPECT_EQ(n, p.SendersOf(room));
        EXPECT_GE(n, p.senders / p.rooms);
        EXPECT_LE(n, p.senders / p.rooms + 1);
      }
    }
  }
}

TEST(PlacementTest, OneSenderARoomStillSpreadsOverTheProcesses) {
  // 20 rooms x 100 with 20 senders over 2 processes used to leave rooms 10..19 without a sender.
  const Split two = SendersOver(Placement{2000, 20, 20}, 2);
  EXPECT_EQ(two.by_proc.at(0), 10);
  EXPECT_EQ(two.by_proc.at(1), 10);
  const Split ten = SendersOver(Placement{100000, 1000, 1000}, 10);
  for (const auto& [proc, n] : ten.by_proc) EXPECT_EQ(n, 100) << "process " << proc;
  // The soak: 2 senders in each of 1,000 rooms of 19, members over 2 processes.
  const Split soak = SendersOver(Placement{19000, 1000, 2000}, 2);
  EXPECT_NEAR(static_cast<double>(soak.by_proc.at(0)), 1000, 60);
  EXPECT_NEAR(static_cast<double>(soak.by_proc.at(1)), 1000, 60);
}

TEST(PlacementTest, HotRoomAndIngestShapes) {
  const Placement hot{1000, 1, 10};  // one room: 10 senders, a hundred members apart
  std::vector<int64_t> ranks;
  for (int64_t g = 0; g < hot.members; ++g)
    if (hot.IsSender(g)) ranks.push_back(g);
  EXPECT_EQ(ranks, (std::vector<int64_t>{0, 100, 200, 300, 400, 500, 600, 700, 800, 900}));
  const Placement ingest{1000, 1000, 1000};  // each sender alone in its room
  for (int64_t g = 0; g < ingest.members; ++g) EXPECT_TRUE(ingest.IsSender(g)) << g;
  const Placement shared{1000, 10, 1000};    // every member sends
  for (int64_t g = 0; g < shared.members; ++g) EXPECT_TRUE(shared.IsSender(g)) << g;
}

TEST(PlacementTest, FewerSendersThanRoomsOrMembersOutsideTheScenario) {
  const Split s = SendersOver(Placement{200, 20, 5}, 2);
  EXPECT_EQ(s.total, 5);
  EXPECT_EQ(s.by_room.size(), 5u);  // the first 5 rooms
  const Placement p{200, 20, 20};
  EXPECT_FALSE(p.IsSender(-1));
  EXPECT_FALSE(p.IsSender(200));
  EXPECT_FALSE((Placement{10, 20, 20}).IsSender(15));  // rooms without members
  EXPECT_EQ((Placement{10, 20, 20}).SendersOf(15), 0);
}

}  // namespace
}  // namespace chatpipe::bench
