// The board's history read back: BoardImage's rule and layout on its own, then BoardAt and
// ScanPlacements on board_placements rows written directly, on a migrated database of the test's own
// (tests/support/services.h).
#include "storage/board_history.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "common/message_id.h"
#include "common/rfc3339.h"
#include "tests/support/services.h"

namespace chatpipe {
namespace {

constexpr int kShift = MessageIdGenerator::kInstanceBits + MessageIdGenerator::kSequenceBits;

// An id stamped at `ms` (ms since the epoch) with sequence `seq`: ids are time-ordered.
uint64_t IdAt(int64_t ms, uint64_t seq = 0) {
  return (static_cast<uint64_t>(ms) - MessageIdGenerator::kEpochMs) << kShift | seq;
}

PixelPlacement P(uint64_t id, int x, int y, int color, int64_t user = 1) {
  return PixelPlacement{id, user, x, y, color, static_cast<int64_t>(MessageIdGenerator::TimestampMs(id))};
}

BoardConfig Board(int width, int height) {
  BoardConfig c;
  c.width = width;
  c.height = height;
  return c;
}

TEST(BoardImageTest, LayoutIsRowMajorHighNibbleFirst) {
  BoardImage image(Board(3, 3));  // 9 pixels, 5 bytes, the last low nibble padding
  EXPECT_EQ(image.bytes(), std::string(5, '\0'));
  EXPECT_EQ(image.ids(), std::vector<uint64_t>(9, 0));
  image.Apply(P(10, 0, 0, 1));  // pixel 0: byte 0, high
  image.Apply(P(11, 1, 0, 2));  // pixel 1: byte 0, low
  image.Apply(P(12, 0, 1, 3));  // pixel 3: byte 1, low
  image.Apply(P(13, 2, 2, 15));  // pixel 8: byte 4, high
  EXPECT_EQ(image.bytes(), std::string("\x12\x03\x00\x00\xf0", 5));
  EXPECT_EQ(image.ids(), (std::vector<uint64_t>{10, 11, 0, 12, 0, 0, 0, 0, 13}));
  EXPECT_EQ(image.Color(0, 1), 3);
  EXPECT_EQ(image.Id(2, 2), 13u);
}

TEST(BoardImageTest, HighestIdWinsInAnyOrder) {
  std::vector<PixelPlacement> placements = {P(5, 1, 1, 4), P(9, 1, 1, 7), P(7, 1, 1, 2), P(3, 0, 0, 6)};
  BoardImage forward(Board(2, 2)), backward(Board(2, 2));
  for (const auto& p : placements) forward.Apply(p);
  for (auto it = placements.rbegin(); it != placements.rend(); ++it) backward.Apply(*it);
  EXPECT_EQ(forward.Color(1, 1), 7);
  EXPECT_EQ(forward.Id(1, 1), 9u);
  EXPECT_EQ(forward.bytes(), backward.bytes());
  EXPECT_EQ(forward.ids(), backward.ids());
  forward.Apply(P(9, 1, 1, 3));  // the same id again (a replay): no change
  EXPECT_EQ(forward.Color(1, 1), 7);
}

TEST(BoardImageTest, OffTheBoardIsCountedAndChangesNothing) {
  BoardConfig c = Board(2, 2);
  c.palette = {"#000000", "#ffffff", "#ff0000"};
  BoardImage image(c);
  for (const auto& p : {P(1, 2, 0, 1), P(2, 0, 2, 1), P(3, -1, 0, 1), P(4, 0, -1, 1), P(5, 0, 0, 3),
                        P(6, 0, 0, -1), P(7, 4096, 4096, 15)})
    image.Apply(p);
  EXPECT_EQ(image.off_board(), 7u);
  EXPECT_EQ(image.bytes(), std::string(2, '\0'));
  EXPECT_EQ(image.ids(), std::vector<uint64_t>(4, 0));
  image.Apply(P(8, 1, 1, 2));
  EXPECT_EQ(image.Color(1, 1), 2);
  EXPECT_EQ(image.off_board(), 7u);
}

class BoardHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto services = test::TestServices::Create("boardhist", 1);
    ASSERT_TRUE(services.ok()) << services.status().ToString();
    services_ = std::move(*services);
    pg_ = std::make_unique<PgConn>(services_->config().pg_conninfo);
  }

  // Written as the board worker writes them: placed_at is the id's time.
  void Insert(const std::vector<PixelPlacement>& placements) {
    std::string ids, xs, ys, colors, users;
    for (const auto& p : placements) {
      const char* sep = ids.empty() ? "" : ",";
      ids += sep + std::to_string(p.id);
      xs += sep + std::to_string(p.x);
      ys += sep + std::to_string(p.y);
      colors += sep + std::to_string(p.color);
      users += sep + std::to_string(p.user);
    }
    auto r = pg_->Exec(
        "INSERT INTO board_placements (id, x, y, color, user_id, placed_at) "
        "SELECT id, x, y, color, u, 'epoch'::timestamptz + ((id >> 22) + 1704067200000) * interval '1 millisecond' "
        "FROM unnest($1::bigint[], $2::int[], $3::int[], $4::smallint[], $5::bigint[]) AS t(id, x, y, color, u)",
        {"{" + ids + "}", "{" + xs + "}", "{" + ys + "}", "{" + colors + "}", "{" + users + "}"});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  BoardImage At(const BoardConfig& c, int64_t at_ms) {
    auto image = BoardAt(*pg_, c, at_ms);
    EXPECT_TRUE(image.ok()) << image.status().ToString();
    return image.ok() ? std::move(*image) : BoardImage(c);
  }

  std::unique_ptr<test::TestServices> services_;
  std::unique_ptr<PgConn> pg_;
};

TEST_F(BoardHistoryTest, BoardAtTakesEachPixelsHighestIdUpToTheTime) {
  const int64_t t = *ParseRfc3339("2026-12-03T10:00:00Z");
  const uint64_t a = IdAt(t + 1000), b = IdAt(t + 2000), c = IdAt(t + 3000), d = IdAt(t + 3000, 1),
                 e = IdAt(t + 4000), f = IdAt(t + 5000), off_x = IdAt(t + 2500), off_color = IdAt(t + 2600);
  // Inserted out of id order, as two worker copies may write them.
  Insert({P(f, 1, 0, 1, 4), P(d, 0, 0, 9, 1), P(a, 0, 0, 5, 1), P(e, 3, 2, 15, 2), P(c, 0, 0, 7, 3),
          P(off_x, 4, 0, 2, 4), P(b, 1, 0, 3, 2), P(off_color, 2, 1, 16, 3)});
  const BoardConfig board = Board(4, 3);  // 12 pixels, 6 bytes

  BoardImage at = At(board, t + 4500);
  EXPECT_EQ(at.bytes(), std::string("\x93\0\0\0\0\x0f", 6));  // (0,0) 9 by d, (1,0) 3 by b, (3,2) 15 by e
  std::vector<uint64_t> ids(12, 0);
  ids[0] = d, ids[1] = b, ids[11] = e;
  EXPECT_EQ(at.ids(), ids);
  EXPECT_EQ(at.off_board(), 2u);

  // The bound is inclusive to the millisecond.
  EXPECT_EQ(At(board, t + 2000).bytes(), std::string("\x53\0\0\0\0\0", 6));
  EXPECT_EQ(At(board, t + 1999).bytes(), std::string("\x50\0\0\0\0\0", 6));
  EXPECT_EQ(At(board, t + 3000).bytes(), std::string("\x93\0\0\0\0\0", 6));  // c and d share a millisecond
  BoardImage before = At(board, t + 999);
  EXPECT_EQ(before.bytes(), std::string(6, '\0'));
  EXPECT_EQ(before.ids(), std::vector<uint64_t>(12, 0));
  EXPECT_EQ(At(board, t + 5000).bytes(), std::string("\x91\0\0\0\0\x0f", 6));
  EXPECT_EQ(At(board, 0).bytes(), std::string(6, '\0'));  // before the ids' epoch

  auto first = FirstPlacementMs(*pg_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, std::optional<int64_t>(t + 1000));
}

TEST_F(BoardHistoryTest, LastIdOfAMillisecondIsInItAndTheNextOneIsNot) {
  const int64_t t = *ParseRfc3339("2026-12-03T10:00:00Z");
  const uint64_t last = IdAt(t, (uint64_t{1} << kShift) - 1), next = IdAt(t + 1);
  Insert({P(last, 0, 0, 4), P(next, 0, 0, 6)});
  BoardImage image = At(Board(1, 1), t);
  EXPECT_EQ(image.Color(0, 0), 4);
  EXPECT_EQ(image.Id(0, 0), last);
  EXPECT_EQ(At(Board(1, 1), t + 1).Color(0, 0), 6);
}

TEST_F(BoardHistoryTest, EmptyHistoryIsABlankBoard) {
  auto first = FirstPlacementMs(*pg_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->has_value());
  BoardImage image = At(Board(3, 1), static_cast<int64_t>(NowMs()));
  EXPECT_EQ(image.bytes(), std::string(2, '\0'));
  EXPECT_EQ(image.off_board(), 0u);
}

// More rows than several cursor fetches: every one seen once, in id order, and the board equal to a
// plain model of the rule.
TEST_F(BoardHistoryTest, ScanStreamsEveryRowInIdOrderAcrossFetches) {
  const int64_t t = *ParseRfc3339("2026-12-03T10:00:00Z");
  const int kRows = 2 * kBoardScanBatch + 1234;
  const BoardConfig board = Board(13, 7);
  std::mt19937 rng(18);
  std::vector<PixelPlacement> all;
  std::map<uint64_t, std::pair<uint64_t, int>> model;  // pixel -> (id, colour)
  for (int i = 0; i < kRows; ++i) {
    // Many placements share a millisecond; the ids stay unique through the sequence.
    PixelPlacement p = P(IdAt(t + rng() % 60000, static_cast<uint64_t>(i)), static_cast<int>(rng() % 13),
                         static_cast<int>(rng() % 7), static_cast<int>(rng() % 16), static_cast<int64_t>(rng() % 50));
    all.push_back(p);
    auto& m = model[board.Index(p.x, p.y)];
    if (p.id > m.first) m = {p.id, p.color};
  }
  Insert(all);

  int seen = 0;
  uint64_t last = 0;
  bool ordered = true;
  Status s = ScanPlacements(*pg_, t + 60000, [&](const PixelPlacement& p) {
    ordered = ordered && p.id > last;
    last = p.id;
    EXPECT_EQ(p.ts_ms, static_cast<int64_t>(MessageIdGenerator::TimestampMs(p.id)));
    ++seen;
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(seen, kRows);
  EXPECT_TRUE(ordered);

  BoardImage image = At(board, t + 60000);
  for (int y = 0; y < 7; ++y)
    for (int x = 0; x < 13; ++x) {
      auto it = model.find(board.Index(x, y));
      EXPECT_EQ(image.Id(x, y), it == model.end() ? 0 : it->second.first) << x << "," << y;
      EXPECT_EQ(image.Color(x, y), it == model.end() ? 0 : it->second.second) << x << "," << y;
    }
}

TEST_F(BoardHistoryTest, ACallbackErrorEndsTheScanAndTheConnectionGoesOn) {
  const int64_t t = *ParseRfc3339("2026-12-03T10:00:00Z");
  Insert({P(IdAt(t + 1), 0, 0, 1), P(IdAt(t + 2), 0, 0, 2), P(IdAt(t + 3), 0, 0, 3)});
  int calls = 0;
  Status s = ScanPlacements(*pg_, t + 10, [&](const PixelPlacement&) {
    ++calls;
    return Status::Internal("disk_full", "no space");
  });
  EXPECT_EQ(s.name(), "disk_full");
  EXPECT_EQ(calls, 1);
  // The transaction was rolled back: the cursor's name is free again, and a scan runs whole.
  EXPECT_EQ(At(Board(1, 1), t + 10).Color(0, 0), 3);
}

}  // namespace
}  // namespace chatpipe
