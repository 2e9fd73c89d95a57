#include "common/board.h"

#include <CLI/CLI.hpp>

#include <cctype>

namespace chatpipe {

Status BoardConfig::CheckPixel(int64_t x, int64_t y, int64_t color) const {
  if (x < 0 || x >= width || y < 0 || y >= height)
    return Status::InvalidArgument("bad_pixel", "x must be 0 to " + std::to_string(width - 1) + " and y 0 to " +
                                                    std::to_string(height - 1));
  if (color < 0 || color >= static_cast<int64_t>(palette.size()))
    return Status::InvalidArgument("bad_pixel", "color must be a palette index, 0 to " + std::to_string(palette.size() - 1));
  return Status::Ok();
}

Result<std::vector<std::string>> ParsePalette(const std::string& text) {
  std::vector<std::string> colors;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string c = text.substr(start, comma - start);
    bool ok = c.size() == 7 && c[0] == '#';
    for (size_t i = 1; ok && i < c.size(); ++i) ok = std::isxdigit(static_cast<unsigned char>(c[i]));
    if (!ok) return Status::InvalidArgument("bad_palette", "a palette colour is #rrggbb, not \"" + c + "\"");
    for (char& ch : c) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    colors.push_back(std::move(c));
    if (colors.size() > kBoardMaxColors) return Status::InvalidArgument("bad_palette", "a palette has at most 16 colours");
    start = comma + 1;
  }
  return colors;
}

void AddBoardOptions(CLI::App* app, BoardConfig* c) {
  app->add_option("--board-width", c->width, "the pixel board's width")
      ->envname("CHATPIPE_BOARD_WIDTH")->check(CLI::Range(1, kBoardMaxSide))->capture_default_str();
  app->add_option("--board-height", c->height, "the pixel board's height")
      ->envname("CHATPIPE_BOARD_HEIGHT")->check(CLI::Range(1, kBoardMaxSide))->capture_default_str();
  std::string joined;
  for (const std::string& color : c->palette) joined += (joined.empty() ? "" : ",") + color;
  app->add_option_function<std::string>(
         "--board-palette",
         [c](const std::string& text) {
           auto colors = ParsePalette(text);
           if (!colors.ok()) throw CLI::ValidationError("--board-palette", colors.status().detail());
           c->palette = std::move(*colors);
         },
         "the board's colours, #rrggbb separated by commas (1 to 16; the first is an empty pixel's)")
      ->envname("CHATPIPE_BOARD_PALETTE")->default_str(joined);
  app->add_option("--board-cooldown-ms", c->cooldown_ms, "time a user waits between two placements (0: none)")
      ->envname("CHATPIPE_BOARD_COOLDOWN_MS")->check(CLI::Range(0, 86400000))->capture_default_str();
  app->add_option("--board-max-age-s", c->max_age_s, "Cache-Control max-age of GET /api/board")
      ->envname("CHATPIPE_BOARD_MAX_AGE_S")->check(CLI::Range(0, 3600))->capture_default_str();
}

}  // namespace chatpipe
