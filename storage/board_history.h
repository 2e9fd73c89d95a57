// The pixel board's history read back (docs/board.md): the board at any moment, rebuilt from
// board_placements (migration 012) for `chatpipe board export`, and for restoring the live board in
// Redis from PostgreSQL.
//
// ScanPlacements streams the placements up to a time in id order, through a server-side cursor in one
// read-only transaction (one snapshot), kBoardScanBatch rows at a time, so memory stays bounded however
// long the history. BoardImage applies them by the board's rule: a pixel shows its placement with the
// highest id. It owns its pixels and their ids; the caller owns the connection.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/board.h"
#include "common/events.h"
#include "common/status.h"
#include "storage/pg.h"

namespace chatpipe {

// A board in the layout of GET /api/board and of the Redis bitfield: width x height 4-bit palette
// indexes, row-major, high nibble first, (width x height + 1) / 2 bytes; all 0 (the first colour) at
// start. Beside each pixel, the id of the placement it shows (0: none).
class BoardImage {
 public:
  BoardImage() = default;  // 0 x 0, for Result<BoardImage>
  explicit BoardImage(const BoardConfig& config);

  // Sets the placement's pixel if its id is above the one the pixel shows, so the result is the same
  // in any order of application (the worker's rule). A placement off this board (x or y outside the
  // size, colour outside the palette) changes nothing and is counted in off_board().
  void Apply(const PixelPlacement& placement);

  int width() const { return width_; }
  int height() const { return height_; }
  int Color(int x, int y) const;
  uint64_t Id(int x, int y) const { return ids_[Index(x, y)]; }
  const std::string& bytes() const { return bytes_; }
  const std::vector<uint64_t>& ids() const { return ids_; }  // row-major, like the pixels
  uint64_t off_board() const { return off_board_; }

 private:
  size_t Index(int x, int y) const { return static_cast<size_t>(y) * width_ + x; }
  int width_ = 0, height_ = 0, colors_ = 0;
  std::string bytes_;
  std::vector<uint64_t> ids_;
  uint64_t off_board_ = 0;
};

// Rows a cursor fetch brings: about 0.5 MB of text, and one round trip per 10,000 placements.
inline constexpr int kBoardScanBatch = 10000;

// Calls `each` for every placement in board_placements with placed_at at or before `at_ms` (ms since
// the epoch), in id order, ts_ms being placed_at. A non-OK status from `each` ends the scan and is
// returned. Reads in a transaction of its own (so `pg` must not be in one), so a scan sees one snapshot
// even while the worker writes.
Status ScanPlacements(PgConn& pg, int64_t at_ms, const std::function<Status(const PixelPlacement&)>& each);

// The time of the first placement (lowest id), or nullopt when the history is empty.
Result<std::optional<int64_t>> FirstPlacementMs(PgConn& pg);

// The board as it was at `at_ms`: each pixel the colour of its placement with the highest id placed at
// or before then.
Result<BoardImage> BoardAt(PgConn& pg, const BoardConfig& config, int64_t at_ms);

}  // namespace chatpipe
