// The board's PNG: round trips through libspng, odd sizes, refusals, and the colours a plain decoder
// (libspng expanding the palette to RGB, as a viewer does) shows for each pixel.
#include "media/board_png.h"

#include <gtest/gtest.h>
#include <spng.h>

#include <cstdint>
#include <memory>
#include <random>

namespace chatpipe {
namespace {

BoardConfig Board(int width, int height, std::vector<std::string> palette = BoardConfig().palette) {
  BoardConfig c;
  c.width = width;
  c.height = height;
  c.palette = std::move(palette);
  return c;
}

// Random palette indexes in the board's layout; the padding nibble of an odd board stays 0.
std::string RandomPixels(const BoardConfig& c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string bytes(c.bytes(), '\0');
  for (uint64_t i = 0; i < c.pixels(); ++i) {
    int color = static_cast<int>(rng() % c.palette.size());
    auto& b = reinterpret_cast<unsigned char&>(bytes[i / 2]);
    b |= static_cast<unsigned char>(i % 2 == 0 ? color << 4 : color);
  }
  return bytes;
}

int PixelAt(const std::string& bytes, uint64_t i) {
  auto b = static_cast<unsigned char>(bytes[i / 2]);
  return i % 2 == 0 ? b >> 4 : b & 0x0f;
}

void ExpectRoundTrip(const BoardConfig& c, const std::string& pixels) {
  auto png = EncodeBoardPng(c, pixels);
  ASSERT_TRUE(png.ok()) << png.status().ToString();
  ASSERT_GT(png->size(), 8u);
  EXPECT_EQ(png->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  auto back = DecodeBoardPng(*png);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->width, c.width);
  EXPECT_EQ(back->height, c.height);
  EXPECT_EQ(back->palette, c.palette);
  EXPECT_EQ(back->pixels, pixels);
}

TEST(BoardPngTest, RoundTripsEvenOddAndOnePixelBoards) {
  for (auto [w, h] : {std::pair{1000, 1000}, {1, 1}, {3, 5}, {7, 2}, {2, 7}, {1, 9}, {9, 1}, {333, 17}}) {
    SCOPED_TRACE(std::to_string(w) + " x " + std::to_string(h));
    BoardConfig c = Board(w, h);
    ExpectRoundTrip(c, RandomPixels(c, static_cast<uint32_t>(w * 31 + h)));
  }
}

TEST(BoardPngTest, OnePixelBoardKeepsItsColour) {
  BoardConfig c = Board(1, 1);
  ExpectRoundTrip(c, std::string(1, '\xf0'));  // colour 15, padding 0
  ExpectRoundTrip(c, std::string(1, '\0'));
}

TEST(BoardPngTest, ShortPaletteRoundTrips) {
  BoardConfig c = Board(5, 3, {"#000000", "#ff8000", "#0a0b0c"});
  ExpectRoundTrip(c, RandomPixels(c, 7));
}

// A viewer expands the palette: every pixel's RGB is its palette colour, row by row.
TEST(BoardPngTest, PlainDecoderSeesThePaletteColours) {
  BoardConfig c = Board(5, 4);
  std::string pixels = RandomPixels(c, 42);
  auto png = EncodeBoardPng(c, pixels);
  ASSERT_TRUE(png.ok()) << png.status().ToString();
  std::unique_ptr<spng_ctx, decltype(&spng_ctx_free)> ctx(spng_ctx_new(0), spng_ctx_free);
  ASSERT_EQ(spng_set_png_buffer(ctx.get(), png->data(), png->size()), 0);
  size_t size = 0;
  ASSERT_EQ(spng_decoded_image_size(ctx.get(), SPNG_FMT_RGB8, &size), 0);
  ASSERT_EQ(size, c.pixels() * 3);
  std::string rgb(size, '\0');
  ASSERT_EQ(spng_decode_image(ctx.get(), rgb.data(), size, SPNG_FMT_RGB8, 0), 0);
  for (uint64_t i = 0; i < c.pixels(); ++i) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "#%02x%02x%02x", static_cast<unsigned char>(rgb[3 * i]),
                  static_cast<unsigned char>(rgb[3 * i + 1]), static_cast<unsigned char>(rgb[3 * i + 2]));
    EXPECT_EQ(hex, c.palette[PixelAt(pixels, i)]) << "pixel " << i;
  }
}

TEST(BoardPngTest, RefusesWhatIsNotABoard) {
  BoardConfig c = Board(3, 3, {"#000000", "#ffffff"});
  std::string pixels(c.bytes(), '\0');
  EXPECT_EQ(EncodeBoardPng(c, pixels.substr(1)).status().name(), "bad_board");  // too short
  std::string off_palette = pixels;
  off_palette[2] = '\x20';  // pixel 4 is colour 2, beyond a palette of 2
  EXPECT_EQ(EncodeBoardPng(c, off_palette).status().name(), "bad_board");
  EXPECT_EQ(EncodeBoardPng(Board(3, 3, {"#00000g"}), pixels).status().name(), "bad_board");
  EXPECT_EQ(EncodeBoardPng(Board(0, 3), "").status().name(), "bad_board");
  EXPECT_EQ(DecodeBoardPng("not a png").status().name(), "bad_png");
  auto png = EncodeBoardPng(c, pixels);
  ASSERT_TRUE(png.ok());
  EXPECT_EQ(DecodeBoardPng(png->substr(0, png->size() - 20)).status().name(), "bad_png");  // cut short
}

}  // namespace
}  // namespace chatpipe
