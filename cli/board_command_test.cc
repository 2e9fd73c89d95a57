// `chatpipe board export` on a database of the test's own: single boards and series equal to BoardAt at
// their times, the limits, and the real binary's flags.
#include "cli/board_command.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/message_id.h"
#include "common/rfc3339.h"
#include "media/board_png.h"
#include "storage/board_history.h"
#include "storage/pg.h"
#include "tests/support/child_process.h"
#include "tests/support/services.h"

namespace chatpipe {
namespace {

const int64_t kT = *ParseRfc3339("2026-12-03T10:00:00Z");

uint64_t IdAt(int64_t ms, uint64_t seq = 0) {
  constexpr int kShift = MessageIdGenerator::kInstanceBits + MessageIdGenerator::kSequenceBits;
  return (static_cast<uint64_t>(ms) - MessageIdGenerator::kEpochMs) << kShift | seq;
}

std::string ReadFile(const std::string& path) {
  std::stringstream s;
  s << std::ifstream(path, std::ios::binary).rdbuf();
  return s.str();
}

std::set<std::string> FilesIn(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

class BoardCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto services = test::TestServices::Create("boardcmd", 1);
    ASSERT_TRUE(services.ok()) << services.status().ToString();
    services_ = std::move(*services);
    auto dir = test::TempDir::Create("boardcmd");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
    pg_ = std::make_unique<PgConn>(services_->config().pg_conninfo);
    options_.common = services_->config();
    options_.board.width = 4;
    options_.board.height = 3;
  }

  // A placement stamped `ms_after` kT, written as the board worker writes it (placed_at: the id's time).
  void Place(int64_t ms_after, int x, int y, int color, int64_t user = 1, uint64_t seq = 0) {
    uint64_t id = IdAt(kT + ms_after, seq);
    auto r = pg_->Exec(
        "INSERT INTO board_placements (id, x, y, color, user_id, placed_at) "
        "VALUES ($1, $2, $3, $4, $5, 'epoch'::timestamptz + $6::bigint * interval '1 millisecond')",
        {std::to_string(id), std::to_string(x), std::to_string(y), std::to_string(color), std::to_string(user),
         std::to_string(MessageIdGenerator::TimestampMs(id))});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  // The history of the series tests, inserted out of id order.
  void PlaceHistory() {
    Place(33000, 2, 2, 4, 3);
    Place(1000, 0, 0, 5, 1);
    Place(40000, 0, 0, 1, 2);  // after every --at below
    Place(12000, 1, 0, 3, 2);
    Place(20000, 0, 0, 9, 3);  // exactly at a frame's time: in it
    Place(12000, 9, 9, 2, 4, 1);  // off a 4 x 3 board
    Place(20000, 3, 2, 15, 1, 1);
  }

  // What the PNG at `path` shows equals BoardAt(at_ms), and that board is `expected`.
  void ExpectBoardFile(const std::string& path, int64_t at_ms, const std::string& expected) {
    SCOPED_TRACE(path + " at " + FormatRfc3339(at_ms));
    auto png = DecodeBoardPng(ReadFile(path));
    ASSERT_TRUE(png.ok()) << png.status().ToString();
    EXPECT_EQ(png->width, options_.board.width);
    EXPECT_EQ(png->height, options_.board.height);
    EXPECT_EQ(png->palette, options_.board.palette);
    auto board = BoardAt(*pg_, options_.board, at_ms);
    ASSERT_TRUE(board.ok()) << board.status().ToString();
    EXPECT_EQ(png->pixels, board->bytes());
    EXPECT_EQ(png->pixels, expected);
  }

  // Runs the binary with `extra` arguments: its exit code, and what it printed (stdout and stderr).
  int Run(const std::vector<std::string>& extra, std::string* out) {
    const std::string log = dir_->path() + "/log" + std::to_string(runs_++);
    std::vector<std::string> argv = {CHATPIPE_BINARY, "board", "export", "--pg", services_->config().pg_conninfo,
                                     "--board-width", "4", "--board-height", "3"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto child = test::ChildProcess::Spawn(argv, log);
    EXPECT_TRUE(child.ok());
    if (!child.ok()) return -1;
    int code = (*child)->Wait(std::chrono::seconds(30));
    *out = ReadFile(log);
    return code;
  }

  std::unique_ptr<test::TestServices> services_;
  std::unique_ptr<test::TempDir> dir_;
  std::unique_ptr<PgConn> pg_;
  BoardExportOptions options_;
  int runs_ = 0;
};

// 4 x 3 boards: pixel (x, y) is nibble 4y + x, high nibble first.
const std::string kBlank(6, '\0');
const std::string kAt1s("\x50\0\0\0\0\0", 6);       // (0,0) 5
const std::string kAt12s("\x53\0\0\0\0\0", 6);      // and (1,0) 3
const std::string kAt20s("\x93\0\0\0\0\x0f", 6);    // (0,0) 9, (3,2) 15
const std::string kAt35s("\x93\0\0\0\0\x4f", 6);  // and (2,2) 4

TEST_F(BoardCommandTest, ExportWritesThePngOfTheBoardAtTheTime) {
  PlaceHistory();
  options_.output = dir_->path() + "/out/board.png";  // the directory is made
  options_.at = "2026-12-03T10:00:35Z";
  auto summary = ExportBoard(options_, 0);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  ASSERT_EQ(summary->frames.size(), 1u);
  EXPECT_EQ(summary->frames[0].path, options_.output);
  EXPECT_EQ(summary->frames[0].at_ms, kT + 35000);
  EXPECT_EQ(summary->placements, 6u);  // not the one at 40 s
  EXPECT_EQ(summary->off_board, 1u);
  ExpectBoardFile(options_.output, kT + 35000, kAt35s);
  EXPECT_EQ(FilesIn(dir_->path() + "/out"), std::set<std::string>{"board.png"});  // no temporary file left
}

TEST_F(BoardCommandTest, EveryWritesOneFramePerIntervalAndOneAtTheEnd) {
  PlaceHistory();
  options_.output = dir_->path() + "/board.png";
  options_.from = "2026-12-03T10:00:00Z";
  options_.at = "2026-12-03T10:00:35Z";
  options_.every_ms = 10000;
  auto summary = ExportBoard(options_, 0);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  const std::vector<std::pair<int64_t, std::string>> expected = {
      {0, kBlank}, {10000, kAt1s}, {20000, kAt20s}, {30000, kAt20s}, {35000, kAt35s}};
  ASSERT_EQ(summary->frames.size(), expected.size());
  EXPECT_EQ(summary->placements, 6u);
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(summary->frames[i].path, dir_->path() + "/board-000" + std::to_string(i + 1) + ".png");
    EXPECT_EQ(summary->frames[i].at_ms, kT + expected[i].first);
    ExpectBoardFile(summary->frames[i].path, kT + expected[i].first, expected[i].second);
  }
  EXPECT_EQ(FilesIn(dir_->path()).size(), 5u);
}

TEST_F(BoardCommandTest, SeriesStartsAtTheFirstPlacementByDefault) {
  PlaceHistory();
  options_.output = dir_->path() + "/board.png";
  options_.at = "2026-12-03T10:00:25Z";
  options_.every_ms = 11000;
  auto summary = ExportBoard(options_, 0);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  // From the first placement (1 s): 1 s, 12 s, 23 s, then --at. 1 s and 12 s are placements' own
  // times: each frame has its placement.
  const std::vector<std::pair<int64_t, std::string>> expected = {
      {1000, kAt1s}, {12000, kAt12s}, {23000, kAt20s}, {25000, kAt20s}};
  ASSERT_EQ(summary->frames.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    ExpectBoardFile(summary->frames[i].path, kT + expected[i].first, expected[i].second);
}

TEST_F(BoardCommandTest, EmptyHistoryGivesOneBlankFrame) {
  options_.output = dir_->path() + "/board.png";
  options_.at = "2026-12-03T10:00:25Z";
  options_.every_ms = 1000;
  auto summary = ExportBoard(options_, 0);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  ASSERT_EQ(summary->frames.size(), 1u);
  ExpectBoardFile(summary->frames[0].path, kT + 25000, kBlank);
}

TEST_F(BoardCommandTest, TooManyFramesWritesNothing) {
  PlaceHistory();
  options_.output = dir_->path() + "/board.png";
  options_.from = "2026-12-03T10:00:00Z";
  options_.at = "2026-12-03T11:00:00Z";
  options_.every_ms = 1;
  auto summary = ExportBoard(options_, 0);
  EXPECT_EQ(summary.status().name(), "too_many_frames");
  options_.from = "2026-12-03T12:00:00Z";  // after --at
  options_.every_ms = 1000;
  EXPECT_EQ(ExportBoard(options_, 0).status().name(), "bad_time");
  options_.from = "yesterday";
  EXPECT_EQ(ExportBoard(options_, 0).status().name(), "bad_time");
  EXPECT_TRUE(FilesIn(dir_->path()).empty());
}

TEST(BoardFramesTest, TimesEndAtTheMomentOnce) {
  EXPECT_EQ(*FrameTimes(100, 100, 10, 5), std::vector<int64_t>{100});
  EXPECT_EQ(*FrameTimes(100, 120, 10, 5), (std::vector<int64_t>{100, 110, 120}));
  EXPECT_EQ(*FrameTimes(100, 125, 10, 5), (std::vector<int64_t>{100, 110, 120, 125}));
  EXPECT_EQ(*FrameTimes(0, 5, std::numeric_limits<int64_t>::max(), 5), (std::vector<int64_t>{0, 5}));
  EXPECT_EQ(FrameTimes(100, 150, 10, 5).status().name(), "too_many_frames");  // 6 frames
  EXPECT_TRUE(FrameTimes(100, 140, 10, 5).ok());
}

TEST(BoardFramesTest, PathsNumberFromOneAndSort) {
  EXPECT_EQ(FramePath("out/board.png", 1, 3), "out/board-0001.png");
  EXPECT_EQ(FramePath("board.png", 12, 9999), "board-0012.png");
  EXPECT_EQ(FramePath("/tmp/x/frames.png", 7, 10000), "/tmp/x/frames-00007.png");
  EXPECT_EQ(FramePath("board", 2, 2), "board-0002");
}

TEST_F(BoardCommandTest, BinaryWritesASeriesAndRefusesBadFlags) {
  PlaceHistory();
  const std::string out_dir = dir_->path() + "/series";
  std::string out;
  ASSERT_EQ(Run({"--every", "10s", "--from", "2026-12-03T10:00:00Z", "--at", "2026-12-03T10:00:35Z", "--output",
                 out_dir + "/board.png"},
                &out),
            0)
      << out;
  EXPECT_NE(out.find(out_dir + "/board-0005.png 2026-12-03T10:00:35.000Z"), std::string::npos) << out;
  EXPECT_NE(out.find("5 file(s)"), std::string::npos) << out;
  EXPECT_EQ(FilesIn(out_dir).size(), 5u);
  ExpectBoardFile(out_dir + "/board-0003.png", kT + 20000, kAt20s);

  // Without --at: now, after the whole history.
  ASSERT_EQ(Run({"--output", dir_->path() + "/now.png"}, &out), 0) << out;
  ExpectBoardFile(dir_->path() + "/now.png", static_cast<int64_t>(NowMs()), std::string("\x13\0\0\0\0\x4f", 6));

  EXPECT_NE(Run({"--every", "10", "--output", dir_->path() + "/x.png"}, &out), 0);  // no unit
  EXPECT_NE(Run({"--from", "2026-12-03T10:00:00Z", "--output", dir_->path() + "/x.png"}, &out), 0);  // no --every
  EXPECT_NE(Run({"--every", "1ms", "--from", "2026-12-03T10:00:00Z", "--output", dir_->path() + "/x.png"}, &out), 0);
  EXPECT_NE(out.find("too_many_frames"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(dir_->path() + "/x.png"));
  EXPECT_FALSE(std::filesystem::exists(dir_->path() + "/x-0001.png"));
}

}  // namespace
}  // namespace chatpipe
