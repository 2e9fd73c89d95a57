#include "media/board_png.h"

#include <spng.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace chatpipe {
namespace {

using SpngCtx = std::unique_ptr<spng_ctx, decltype(&spng_ctx_free)>;

Status BadBoard(std::string detail) { return Status::InvalidArgument("bad_board", std::move(detail)); }
Status BadPng(std::string detail) { return Status::InvalidArgument("bad_png", std::move(detail)); }
Status SpngFailed(const char* step, int error) {
  return Status::Internal(std::string("libspng: ") + step + ": " + spng_strerror(error));
}

int Nibble(std::string_view bytes, size_t i) {
  auto byte = static_cast<unsigned char>(bytes[i / 2]);
  return i % 2 == 0 ? byte >> 4 : byte & 0x0f;
}

void SetNibble(std::string& bytes, size_t i, int value) {
  auto& byte = reinterpret_cast<unsigned char&>(bytes[i / 2]);
  byte = i % 2 == 0 ? static_cast<unsigned char>((byte & 0x0f) | (value << 4))
                    : static_cast<unsigned char>((byte & 0xf0) | value);
}

// Moves pixels between two packings of width x height nibbles whose rows are `from_row` and `to_row`
// nibbles apart: the board's rows run on (width), a PNG's start on a byte (width rounded up to even).
std::string Repack(std::string_view from, int width, int height, size_t from_row, size_t to_row, size_t size) {
  std::string to(size, '\0');
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) SetNibble(to, y * to_row + x, Nibble(from, y * from_row + x));
  return to;
}

Status ToPlte(const std::vector<std::string>& palette, spng_plte* plte) {
  if (palette.empty() || palette.size() > kBoardMaxColors) return BadBoard("a palette has 1 to 16 colours");
  plte->n_entries = static_cast<uint32_t>(palette.size());
  for (size_t i = 0; i < palette.size(); ++i) {
    unsigned r, g, b;
    int end = 0;
    if (std::sscanf(palette[i].c_str(), "#%2x%2x%2x%n", &r, &g, &b, &end) != 3 || end != 7 || palette[i].size() != 7)
      return BadBoard("a palette colour is #rrggbb, not \"" + palette[i] + "\"");
    plte->entries[i] = {static_cast<uint8_t>(r), static_cast<uint8_t>(g), static_cast<uint8_t>(b), 255};
  }
  return Status::Ok();
}

Status CheckBoard(const BoardConfig& config, std::string_view pixels) {
  if (config.width < 1 || config.width > kBoardMaxSide || config.height < 1 || config.height > kBoardMaxSide)
    return BadBoard("a board's sides are 1 to " + std::to_string(kBoardMaxSide));
  if (pixels.size() != config.bytes())
    return BadBoard("a " + std::to_string(config.width) + " x " + std::to_string(config.height) + " board has " +
                    std::to_string(config.bytes()) + " bytes, not " + std::to_string(pixels.size()));
  for (uint64_t i = 0; i < config.pixels(); ++i)
    if (Nibble(pixels, i) >= static_cast<int>(config.palette.size()))
      return BadBoard("pixel " + std::to_string(i) + " has colour " + std::to_string(Nibble(pixels, i)) +
                      ", beyond the palette's " + std::to_string(config.palette.size()));
  return Status::Ok();
}

}  // namespace

Result<std::string> EncodeBoardPng(const BoardConfig& config, std::string_view pixels) {
  spng_plte plte{};
  if (Status s = ToPlte(config.palette, &plte); !s.ok()) return s;
  if (Status s = CheckBoard(config, pixels); !s.ok()) return s;
  const size_t row_nibbles = config.width + config.width % 2;
  const size_t size = row_nibbles / 2 * config.height;
  std::string repacked;
  if (config.width % 2 == 1) {
    repacked = Repack(pixels, config.width, config.height, config.width, row_nibbles, size);
    pixels = repacked;
  }
  SpngCtx ctx(spng_ctx_new(SPNG_CTX_ENCODER), spng_ctx_free);
  if (!ctx) return Status::Internal("libspng: out of memory");
  spng_ihdr ihdr{static_cast<uint32_t>(config.width), static_cast<uint32_t>(config.height), 4,
                 SPNG_COLOR_TYPE_INDEXED, 0, 0, 0};
  int e = spng_set_option(ctx.get(), SPNG_ENCODE_TO_BUFFER, 1);
  if (e == 0) e = spng_set_ihdr(ctx.get(), &ihdr);
  if (e == 0) e = spng_set_plte(ctx.get(), &plte);
  if (e == 0) e = spng_encode_image(ctx.get(), pixels.data(), size, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
  if (e != 0) return SpngFailed("encode", e);
  size_t len = 0;
  std::unique_ptr<void, decltype(&std::free)> buffer(spng_get_png_buffer(ctx.get(), &len, &e), std::free);
  if (!buffer) return SpngFailed("get buffer", e);
  return std::string(static_cast<const char*>(buffer.get()), len);
}

Result<BoardPng> DecodeBoardPng(std::string_view png) {
  SpngCtx ctx(spng_ctx_new(0), spng_ctx_free);
  if (!ctx) return Status::Internal("libspng: out of memory");
  spng_ihdr ihdr{};
  spng_plte plte{};
  int e = spng_set_image_limits(ctx.get(), kBoardMaxSide, kBoardMaxSide);
  if (e == 0) e = spng_set_png_buffer(ctx.get(), png.data(), png.size());
  if (e == 0) e = spng_get_ihdr(ctx.get(), &ihdr);
  if (e != 0) return BadPng(std::string("not a PNG libspng reads: ") + spng_strerror(e));
  if (ihdr.color_type != SPNG_COLOR_TYPE_INDEXED || ihdr.bit_depth != 4)
    return BadPng("not an indexed-colour PNG of bit depth 4");
  if ((e = spng_get_plte(ctx.get(), &plte)) != 0) return BadPng(std::string("no palette: ") + spng_strerror(e));
  size_t size = 0;
  if ((e = spng_decoded_image_size(ctx.get(), SPNG_FMT_PNG, &size)) != 0) return BadPng(spng_strerror(e));
  std::string rows(size, '\0');
  if ((e = spng_decode_image(ctx.get(), rows.data(), size, SPNG_FMT_PNG, 0)) != 0) return BadPng(spng_strerror(e));
  BoardPng out;
  out.width = static_cast<int>(ihdr.width);
  out.height = static_cast<int>(ihdr.height);
  for (uint32_t i = 0; i < plte.n_entries; ++i) {
    char color[8];
    std::snprintf(color, sizeof color, "#%02x%02x%02x", plte.entries[i].red, plte.entries[i].green,
                  plte.entries[i].blue);
    out.palette.push_back(color);
  }
  const size_t pixels = static_cast<size_t>(out.width) * out.height;
  out.pixels = Repack(rows, out.width, out.height, out.width + out.width % 2, out.width, (pixels + 1) / 2);
  return out;
}

}  // namespace chatpipe
