// The shared pixel board's shape (docs/board.md): its size, its palette and its rules, shared by the
// ingress that checks placements, the board worker that applies them and `chatpipe board export`
// that draws them, so every stage refuses exactly what the first one would.
//
// A pixel is 4 bits, a palette index. The live board is a Redis bitfield of width x height such
// nibbles, row-major, high nibble first: byte i holds pixels 2i (high) and 2i+1 (low). Each stage
// takes its BoardConfig from the same flags and environment (AddBoardOptions); a deployment must give
// every process the same width, height and palette.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace CLI {
class App;
}

namespace chatpipe {

inline constexpr int kBoardMaxSide = 4096;
inline constexpr size_t kBoardMaxColors = 16;  // 4 bits a pixel

struct BoardConfig {
  int width = 1000;
  int height = 1000;
  // r/place's 2017 palette; index 0 (white) is the colour of a pixel nobody placed.
  std::vector<std::string> palette = {"#ffffff", "#e4e4e4", "#888888", "#222222", "#ffa7d1", "#e50000",
                                      "#e59500", "#a06a42", "#e5d900", "#94e044", "#02be01", "#00d3dd",
                                      "#0083c7", "#0000ea", "#cf6ee4", "#820080"};
  int cooldown_ms = 5000;  // between two placements of one user, on every ingress
  int max_age_s = 3;       // Cache-Control max-age of GET /api/board (a CDN may serve it this long)

  uint64_t pixels() const { return static_cast<uint64_t>(width) * height; }
  uint64_t bytes() const { return (pixels() + 1) / 2; }  // the board's size as GET /api/board sends it
  uint64_t Index(int x, int y) const { return static_cast<uint64_t>(y) * width + x; }
  // Whether (x, y, color) is a placement this board takes; else why not (InvalidArgument, bad_pixel).
  Status CheckPixel(int64_t x, int64_t y, int64_t color) const;
};

// --board-width, --board-height, --board-palette, --board-cooldown-ms, --board-max-age-s
// (CHATPIPE_BOARD_*), each checked: sides 1 to kBoardMaxSide, 1 to 16 colours "#rrggbb".
void AddBoardOptions(CLI::App* app, BoardConfig* config);
// Parses "#rrggbb,#rrggbb,..." (1 to 16 colours, lower-cased); InvalidArgument otherwise.
Result<std::vector<std::string>> ParsePalette(const std::string& text);

}  // namespace chatpipe
