// The pixel board benchmark's bookkeeping (`chatpipe-loadgen board`, bench/README.md "board"): which
// pixel each placement of the schedule paints, when it is due, how a subscriber's `pixels` frame is
// read, and which placements a subscriber has seen. Pure: no I/O, used by the generator's threads.
//
// Every placement is identifiable from its pixel alone: placement k of a run paints pixel k of the
// board (x = k mod width, y = k / width) with colour 1 + k mod (colours - 1), and is due at
// start + k / rate. So a run places at most width x height pixels, each once, on a board that starts
// empty (a run has its own namespace): nothing is overwritten, every acknowledged placement changes
// its pixel and must reach every subscriber, and the subscriber finds its due time from x and y,
// checking the colour. The colour never is 0, the colour of a pixel nobody placed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatpipe::bench {

struct BoardPixel {
  int x = 0;
  int y = 0;
  int color = 0;
};

class BoardSchedule {
 public:
  // colors >= 2, rate > 0 (placements per second of the whole run).
  BoardSchedule(int width, int height, int colors, double rate, int64_t start_ns)
      : width_(width), height_(height), colors_(colors), rate_(rate), start_ns_(start_ns) {}

  uint64_t capacity() const { return static_cast<uint64_t>(width_) * height_; }  // placements a run may make
  // Placements due before start + duration_s, at most capacity().
  uint64_t Count(double duration_s) const;
  BoardPixel At(uint64_t k) const;
  // The placement that paints this pixel this colour, or nothing (off the board, or another colour:
  // not this run's).
  std::optional<uint64_t> Find(int64_t x, int64_t y, int64_t color) const;
  int64_t DueNs(uint64_t k) const { return start_ns_ + static_cast<int64_t>(static_cast<double>(k) * 1e9 / rate_); }

 private:
  int ColorOf(uint64_t k) const { return 1 + static_cast<int>(k % static_cast<uint64_t>(colors_ - 1)); }

  int width_, height_, colors_;
  double rate_;
  int64_t start_ns_;
};

// {"type":"pixels","prev":P,"v":V,"pixels":[[x,y,color],...]} (docs/board.md), keys in any order.
struct PixelsFrame {
  int64_t prev = -1;
  int64_t v = -1;
  std::vector<BoardPixel> pixels;
};

// The value of the frame's top-level "type" key, or "" when there is none to read.
std::string_view BoardFrameType(std::string_view json);
// The `code` of an error frame ({"type":"error","code":"busy","reason":...}), or "" when there is
// none to read. The server writes the code before the reason, whose quotes are escaped.
std::string_view ErrorFrameCode(std::string_view json);
// The WebSocket frame that places `p`: {"type":"place","x":X,"y":Y,"color":C} (docs/protocol.md).
std::string PlaceFrame(const BoardPixel& p);
// Reads a pixels frame into *out (its vector reused). False when it is not one, or malformed.
bool ParsePixelsFrame(std::string_view json, PixelsFrame* out);

// A set of placement numbers below a capacity, one bit each.
class PixelSet {
 public:
  explicit PixelSet(uint64_t capacity) : words_((capacity + 63) / 64, 0), capacity_(capacity) {}
  // Adds k; false when it was there already (or is past the capacity).
  bool Add(uint64_t k);
  bool Contains(uint64_t k) const { return k < capacity_ && (words_[k / 64] >> (k % 64) & 1); }
  uint64_t count() const { return count_; }
  void Merge(const PixelSet& other);  // same capacity
  // How many of `wanted` this set lacks.
  uint64_t Missing(const PixelSet& wanted) const;

 private:
  std::vector<uint64_t> words_;
  uint64_t capacity_;
  uint64_t count_ = 0;
};

}  // namespace chatpipe::bench
