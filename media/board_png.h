// Board PNG: the pixel board (docs/board.md) as an indexed-colour PNG, for `chatpipe board export`.
//
// The board's bytes are already PNG's own packing of 4-bit pixels (high nibble first), so the image is
// colour type 3 (palette) at bit depth 4 with the board's palette as its PLTE: about as small as the
// board itself before compression, and every viewer shows the exact colours. Rows are re-packed only
// when the width is odd (a PNG row starts on a byte; the board's rows run on). Encoded with libspng;
// stateless and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/board.h"
#include "common/status.h"

namespace chatpipe {

// `pixels` is a board of config's size in the layout of GET /api/board (config.bytes() long), each
// pixel an index into config.palette. InvalidArgument (bad_board) when the size, a pixel or a palette
// colour does not fit; Internal when libspng fails.
Result<std::string> EncodeBoardPng(const BoardConfig& config, std::string_view pixels);

// What DecodeBoardPng reads from an indexed-colour PNG of bit depth 4.
struct BoardPng {
  int width = 0;
  int height = 0;
  std::vector<std::string> palette;  // "#rrggbb", lower case
  std::string pixels;                // in the board's layout, as EncodeBoardPng takes them
};
// Reads back what EncodeBoardPng writes (an export checked against its source); InvalidArgument
// (bad_png) for any other PNG, or none, or one larger than kBoardMaxSide a side.
Result<BoardPng> DecodeBoardPng(std::string_view png);

}  // namespace chatpipe
