#include "common/board.h"

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include "common/events.h"
#include "common/message_id.h"

namespace chatpipe {
namespace {

TEST(BoardConfigTest, ChecksBoundsAndPalette) {
  BoardConfig board;
  board.width = 10;
  board.height = 5;
  board.palette = {"#000000", "#ffffff", "#ff0000"};
  EXPECT_TRUE(board.CheckPixel(0, 0, 0).ok());
  EXPECT_TRUE(board.CheckPixel(9, 4, 2).ok());
  for (auto [x, y, c] : {std::tuple{10, 0, 0}, {0, 5, 0}, {-1, 0, 0}, {0, -1, 0}, {0, 0, 3}, {0, 0, -1}}) {
    Status s = board.CheckPixel(x, y, c);
    EXPECT_EQ(s.name(), "bad_pixel") << x << "," << y << "," << c;
  }
  EXPECT_EQ(board.pixels(), 50u);
  EXPECT_EQ(board.bytes(), 25u);
  EXPECT_EQ(board.Index(3, 2), 23u);
  board.width = 3;
  board.height = 3;
  EXPECT_EQ(board.bytes(), 5u);  // an odd count of pixels rounds up to a whole byte
}

TEST(BoardConfigTest, PaletteParsesAndRefusesWhatIsNotAColour) {
  auto p = ParsePalette("#FFFFFF,#00ff00");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (std::vector<std::string>{"#ffffff", "#00ff00"}));
  for (const char* bad : {"", "#fff", "ffffff", "#gggggg", "#ffffff,", "#ffffff,,#000000"})
    EXPECT_FALSE(ParsePalette(bad).ok()) << bad;
  std::string seventeen;
  for (int i = 0; i < 17; ++i) seventeen += (i ? ",#00000" : "#00000") + std::to_string(i % 10);
  EXPECT_FALSE(ParsePalette(seventeen).ok());
}

TEST(BoardConfigTest, OptionsComeFromFlags) {
  CLI::App app;
  BoardConfig board;
  AddBoardOptions(&app, &board);
  app.parse("--board-palette #111111,#222222 --board-width 64 --board-cooldown-ms 0", false);
  EXPECT_EQ(board.width, 64);
  EXPECT_EQ(board.cooldown_ms, 0);
  EXPECT_EQ(board.palette.size(), 2u);
  CLI::App bad;
  BoardConfig other;
  AddBoardOptions(&bad, &other);
  EXPECT_THROW(bad.parse("--board-palette #12", false), CLI::ValidationError);
  EXPECT_THROW(bad.parse("--board-width 0", false), CLI::ValidationError);
}

TEST(PixelPlacementTest, ABatchRoundTripsWithEachPlacementsTimeFromItsId) {
  const uint64_t id = ((uint64_t{1} << 40) << 22) | (3 << 12) | 5;  // 2^40 ms after the ids' epoch
  const std::vector<PixelPlacement> batch = {{.id = id, .user = 42, .x = 999, .y = 3, .color = 15},
                                             {.id = id + 1, .user = 7, .x = 0, .y = 0, .color = 0}};
  auto back = DecodePixelPlacements(EncodePixelBatch(batch));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].id, id);
  EXPECT_EQ((*back)[0].user, 42);
  EXPECT_EQ((*back)[0].x, 999);
  EXPECT_EQ((*back)[0].y, 3);
  EXPECT_EQ((*back)[0].color, 15);
  EXPECT_EQ((*back)[0].ts_ms, static_cast<int64_t>(MessageIdGenerator::TimestampMs(id)));
  EXPECT_EQ((*back)[1].id, id + 1);
  EXPECT_EQ((*back)[1].user, 7);
}

TEST(PixelPlacementTest, TheOneEventOfEarlierIngressIsStillRead) {
  auto back = DecodePixelPlacements(
      R"({"v":1,"type":"pixel","id":"4611686018427387909","user":42,"x":999,"y":3,"color":15,"ts":1790000000000})");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].id, (1ull << 62) + 5);
  EXPECT_EQ((*back)[0].color, 15);
  EXPECT_EQ((*back)[0].ts_ms, 1790000000000);
}

TEST(PixelPlacementTest, OtherShapesAreRefused) {
  for (const char* bad : {R"({"v":1,"type":"pixel","id":"1","user":1,"x":1,"y":1,"ts":1})",
                          R"({"v":1,"type":"pixel","id":1,"user":1,"x":1,"y":1,"color":1,"ts":1})",
                          R"({"v":1,"type":"speech","id":"1","user":1,"x":1,"y":1,"color":1,"ts":1})",
                          R"({"v":1,"type":"pixel","id":"1","user":1,"x":1.5,"y":1,"color":1,"ts":1})",
                          R"({"v":1,"type":"pixel_batch","placements":[]})",
                          R"({"v":1,"type":"pixel_batch"})",
                          R"({"v":1,"type":"pixel_batch","placements":[["1",1,1,1]]})",
                          R"({"v":1,"type":"pixel_batch","placements":[["0",1,1,1,1]]})",
                          R"({"v":1,"type":"pixel_batch","placements":[[1,1,1,1,1]]})",
                          R"({"v":1,"type":"pixel_batch","placements":[["1",1,1,1,1],{"id":"2"}]})",
                          R"({"v":2,"type":"pixel_batch","placements":[["1",1,1,1,1]]})"})
    EXPECT_FALSE(DecodePixelPlacements(bad).ok()) << bad;
}

}  // namespace
}  // namespace chatpipe
