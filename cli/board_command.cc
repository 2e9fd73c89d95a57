#include "cli/board_command.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>

#include "common/message_id.h"
#include "common/rfc3339.h"
#include "media/board_png.h"
#include "storage/board_history.h"
#include "storage/pg.h"

namespace chatpipe {
namespace {

// Writes beside the name, then renames: a reader never finds half a PNG under the final name.
Status WriteFileWhole(const std::string& path, const std::string& bytes) {
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return Status::Unavailable("write_failed", parent.string() + ": " + ec.message());
  const std::string temp = path + ".tmp";
  std::FILE* f = std::fopen(temp.c_str(), "wb");
  if (!f) return Status::Unavailable("write_failed", temp + ": " + std::strerror(errno));
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    int error = errno;
    std::remove(temp.c_str());
    return Status::Unavailable("write_failed", path + ": " + std::strerror(error));
  }
  return Status::Ok();
}

Result<int64_t> TimeOption(const std::optional<std::string>& text, const char* flag, int64_t fallback) {
  if (!text) return fallback;
  auto ms = ParseRfc3339(*text);
  if (!ms.ok()) return Status::InvalidArgument("bad_time", std::string(flag) + ": " + ms.status().detail());
  return ms;
}

// The frames' times and names: one file at `at`, or a series.
Result<std::vector<BoardFrame>> PlanFrames(const BoardExportOptions& o, PgConn& pg, int64_t now_ms) {
  auto at = TimeOption(o.at, "--at", now_ms);
  if (!at.ok()) return at.status();
  if (o.every_ms <= 0) return std::vector<BoardFrame>{{o.output, *at}};
  std::optional<int64_t> first;
  if (!o.from) {
    auto found = FirstPlacementMs(pg);
    if (!found.ok()) return found.status();
    first = *found;
  }
  // Without --from, the series starts at the first placement (an empty history, or one that starts
  // after --at, makes one frame at --at).
  auto from = TimeOption(o.from, "--from", first ? std::min(*first, *at) : *at);
  if (!from.ok()) return from.status();
  auto times = FrameTimes(*from, *at, o.every_ms, o.max_frames);
  if (!times.ok()) return times.status();
  std::vector<BoardFrame> frames;
  for (size_t i = 0; i < times->size(); ++i) frames.push_back({FramePath(o.output, i + 1, times->size()), (*times)[i]});
  return frames;
}

// "10m" -> 600000: a number and a unit, the unit required (a bare "10" is no duration).
CLI::AsNumberWithUnit DurationMs() {
  const std::map<std::string, int64_t> units = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
  return CLI::AsNumberWithUnit(units,
                               static_cast<CLI::AsNumberWithUnit::Options>(CLI::AsNumberWithUnit::CASE_SENSITIVE |
                                                                           CLI::AsNumberWithUnit::UNIT_REQUIRED),
                               "DURATION");
}

// Each file and its time on stdout (for scripts), the summary on stderr.
void Report(const BoardExportSummary& summary) {
  for (const BoardFrame& f : summary.frames) std::cout << f.path << " " << FormatRfc3339(f.at_ms) << "\n";
  std::cout.flush();
  std::string when = FormatRfc3339(summary.frames.front().at_ms);
  if (summary.frames.size() > 1) when += " to " + FormatRfc3339(summary.frames.back().at_ms);
  std::fprintf(stderr, "board export: %zu file(s), the board at %s; %llu placement(s) read, %llu off the board\n",
               summary.frames.size(), when.c_str(), static_cast<unsigned long long>(summary.placements),
               static_cast<unsigned long long>(summary.off_board));
}

}  // namespace

Result<std::vector<int64_t>> FrameTimes(int64_t from_ms, int64_t at_ms, int64_t every_ms, int64_t max_frames) {
  if (from_ms > at_ms)
    return Status::InvalidArgument("bad_time", "--from (" + FormatRfc3339(from_ms) + ") is after --at (" +
                                                   FormatRfc3339(at_ms) + ")");
  // Frames before `at`, then `at` itself (no sum here can overflow, whatever every_ms is).
  const int64_t span = at_ms - from_ms;
  const int64_t count = span / every_ms + (span % every_ms != 0) + 1;
  if (count > max_frames)
    return Status::InvalidArgument("too_many_frames", "--every gives " + std::to_string(count) + " frames from " +
                                                          FormatRfc3339(from_ms) + " to " + FormatRfc3339(at_ms) +
                                                          ", over --max-frames " + std::to_string(max_frames));
  std::vector<int64_t> times;
  for (int64_t k = 0; k < count - 1; ++k) times.push_back(from_ms + k * every_ms);
  times.push_back(at_ms);
  return times;
}

std::string FramePath(const std::string& output, size_t index, size_t count) {
  const std::filesystem::path path(output);
  const int digits = std::max<int>(4, static_cast<int>(std::to_string(count).size()));
  char number[32];
  std::snprintf(number, sizeof number, "-%0*zu", digits, index);
  return (path.parent_path() / (path.stem().string() + number + path.extension().string())).string();
}

Result<BoardExportSummary> ExportBoard(const BoardExportOptions& o, int64_t now_ms) {
  PgConn pg(o.common.pg_conninfo);
  auto frames = PlanFrames(o, pg, now_ms);
  if (!frames.ok()) return frames.status();
  BoardExportSummary summary;
  BoardImage image(o.board);
  // Writes every planned frame whose time is before `ms`: the board has every placement up to it.
  auto write_before = [&](int64_t ms) -> Status {
    while (summary.frames.size() < frames->size() && (*frames)[summary.frames.size()].at_ms < ms) {
      const BoardFrame& frame = (*frames)[summary.frames.size()];
      auto png = EncodeBoardPng(o.board, image.bytes());
      if (!png.ok()) return png.status();
      if (Status s = WriteFileWhole(frame.path, *png); !s.ok()) return s;
      summary.frames.push_back(frame);
    }
    return Status::Ok();
  };
  Status scanned = ScanPlacements(pg, frames->back().at_ms, [&](const PixelPlacement& p) {
    if (Status s = write_before(p.ts_ms); !s.ok()) return s;
    image.Apply(p);
    ++summary.placements;
    return Status::Ok();
  });
  if (!scanned.ok()) return scanned;
  if (Status s = write_before(std::numeric_limits<int64_t>::max()); !s.ok()) return s;
  summary.off_board = image.off_board();
  return summary;
}

void AddBoardCommand(CLI::App& app) {
  auto o = std::make_shared<BoardExportOptions>();
  CLI::App* board = app.add_subcommand("board", "the pixel board's tools (docs/board.md)");
  board->require_subcommand(1);
  CLI::App* cmd = board->add_subcommand(
      "export",
      "draw the pixel board at a moment from its history in PostgreSQL, as a PNG (--every: a time-lapse series)");
  cmd->footer(
      "Examples:\n"
      "  chatpipe board export --at 2026-12-03T18:00:00Z --output board.png\n"
      "  chatpipe board export --every 10m --output frames/board.png   (frames/board-0001.png, ...)\n"
      "A pixel shows its placement with the highest id stamped at or before the time. Give the same\n"
      "--board-* settings as the board worker; placements off that board are skipped and counted.");
  AddCommonOptions(cmd, &o->common);
  AddBoardOptions(cmd, &o->board);
  cmd->add_option("--output", o->output, "the PNG file; with --every, DIR/NAME.png names DIR/NAME-0001.png, ...")
      ->capture_default_str();
  cmd->add_option("--at", o->at, "the moment, RFC 3339 (2026-12-03T18:00:00Z); default now; a series' last frame");
  cmd->add_option("--every", o->every_ms, "a time-lapse series, one frame per interval: 500ms, 30s, 10m, 1h, 1d")
      ->transform(DurationMs())
      ->check(CLI::PositiveNumber);
  cmd->add_option("--from", o->from, "a series' first frame, RFC 3339; default the first placement's time")
      ->needs("--every");
  cmd->add_option("--max-frames", o->max_frames, "refuse a series of more frames than this (a typo in --every)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->callback([o] {
    ApplyLogLevel(o->common);
    auto summary = ExportBoard(*o, static_cast<int64_t>(NowMs()));
    if (!summary.ok()) {
      spdlog::error("board export: {}", summary.status().ToString());
      throw CLI::RuntimeError(1);
    }
    Report(*summary);
  });
}

}  // namespace chatpipe
