#include "common/board.h"

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include "common/events.h"

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

TEST(PixelPlacementTest, RoundTripsAndRefusesOtherShapes) {
  PixelPlacement p{.id = (1ull << 62) + 5, .user = 42, .x = 999, .y = 3, .color = 15, .ts_ms = 1790000000000};
  auto back = DecodePixelPlacement(EncodePixelPlacement(p));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->id, p.id);
  EXPECT_EQ(back->user, 42);
  EXPECT_EQ(back->x, 999);
  EXPECT_EQ(back->y, 3);
  EXPECT_EQ(back->color, 15);
  EXPECT_EQ(back->ts_ms, p.ts_ms);
  for (const char* bad : {R"({"v":1,"type":"pixel","id":"1","user":1,"x":1,"y":1,"ts":1})",
                          R"({"v":1,"type":"pixel","id":1,"user":1,"x":1,"y":1,"color":1,"ts":1})",
                          R"({"v":1,"type":"speech","id":"1","user":1,"x":1,"y":1,"color":1,"ts":1})",
                          R"({"v":1,"type":"pixel","id":"1","user":1,"x":1.5,"y":1,"color":1,"ts":1})"})
    EXPECT_FALSE(DecodePixelPlacement(bad).ok()) << bad;
}

}  // namespace
}  // namespace chatpipe
