// `chatpipe board export`: the pixel board at a moment, or a time-lapse series of it, drawn from its
// history in PostgreSQL (storage/board_history.h) as indexed-colour PNGs (media/board_png.h); see
// docs/board.md, "Export".
//
// A series is read in one pass over the history in id order: each frame is written when the scan
// passes its time, so a series costs one scan however many frames it has, and memory stays one board.
// Each file is written beside its name and renamed into place, so a file with the name is whole.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/board.h"
#include "common/config.h"
#include "common/status.h"

namespace chatpipe {

struct BoardExportOptions {
  CommonConfig common;
  BoardConfig board;
  std::string output = "board.png";  // the file; for a series, the pattern: DIR/board.png -> DIR/board-0001.png, ...
  std::optional<std::string> at;     // RFC 3339; default now
  int64_t every_ms = 0;              // > 0: a series, from `from` every every_ms, and a last frame at `at`
  std::optional<std::string> from;   // RFC 3339; a series' first frame; default the first placement's time
  int64_t max_frames = 10000;        // a series longer than this is refused before anything is written
};

struct BoardFrame {
  std::string path;
  int64_t at_ms = 0;
};

struct BoardExportSummary {
  std::vector<BoardFrame> frames;  // written, in order
  uint64_t placements = 0;         // read from the history
  uint64_t off_board = 0;          // of them, off this board (size or palette): skipped
};

// The times of a series: from, from + every, ... while before `at`, then `at`. InvalidArgument
// (too_many_frames) past `max_frames`, (bad_time) when from is after at.
Result<std::vector<int64_t>> FrameTimes(int64_t from_ms, int64_t at_ms, int64_t every_ms, int64_t max_frames);

// The name of frame `index` (from 1) of `count`: DIR/board.png -> DIR/board-0001.png; at least 4
// digits, more when the count needs them, so the names sort in time order.
std::string FramePath(const std::string& output, size_t index, size_t count);

// Writes the board at `at` (default `now_ms`), or the series, to the files named by `output`.
Result<BoardExportSummary> ExportBoard(const BoardExportOptions& options, int64_t now_ms);

void AddBoardCommand(CLI::App& app);

}  // namespace chatpipe
