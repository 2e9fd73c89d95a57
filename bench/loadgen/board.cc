#include "bench/loadgen/board.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace chatpipe::bench {

uint64_t BoardSchedule::Count(double duration_s) const {
  const double n = std::ceil(duration_s * rate_);  // k is due before the end when k / rate < duration
  if (n <= 0) return 0;
  return std::min<uint64_t>(capacity(), static_cast<uint64_t>(n));
}

BoardPixel BoardSchedule::At(uint64_t k) const {
  return BoardPixel{static_cast<int>(k % static_cast<uint64_t>(width_)), static_cast<int>(k / static_cast<uint64_t>(width_)),
                    ColorOf(k)};
}

std::optional<uint64_t> BoardSchedule::Find(int64_t x, int64_t y, int64_t color) const {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return std::nullopt;
  const uint64_t k = static_cast<uint64_t>(y) * static_cast<uint64_t>(width_) + static_cast<uint64_t>(x);
  if (color != ColorOf(k)) return std::nullopt;
  return k;
}

namespace {

// The position just past `"key":`, or npos. The quoted name is a key wherever a colon follows it: a
// string value equal to it ("pixels" is also the type's value) is followed by a comma or a brace, and
// a quote inside a string (an error's reason) is escaped.
size_t ValueOf(std::string_view json, std::string_view quoted_key) {
  for (size_t from = 0;;) {
    size_t at = json.find(quoted_key, from);
    if (at == std::string_view::npos) return at;
    at += quoted_key.size();
    from = at;
    while (at < json.size() && json[at] == ' ') ++at;
    if (at >= json.size() || json[at] != ':') continue;
    ++at;
    while (at < json.size() && json[at] == ' ') ++at;
    return at;
  }
}

void SkipSpace(std::string_view s, size_t* at) {
  while (*at < s.size() && (s[*at] == ' ' || s[*at] == '\n' || s[*at] == '\t' || s[*at] == '\r')) ++*at;
}

// A non-negative integer at *at (at most 18 digits).
bool ReadInt(std::string_view s, size_t* at, int64_t* out) {
  SkipSpace(s, at);
  const size_t begin = *at;
  int64_t v = 0;
  while (*at < s.size() && s[*at] >= '0' && s[*at] <= '9' && *at - begin < 18) v = v * 10 + (s[(*at)++] - '0');
  if (*at == begin || (*at < s.size() && s[*at] >= '0' && s[*at] <= '9')) return false;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* at, char c) {
  SkipSpace(s, at);
  if (*at >= s.size() || s[*at] != c) return false;
  ++*at;
  return true;
}

// The string value of the first `quoted_key` (one with no escapes in it), or "".
std::string_view StringValue(std::string_view json, std::string_view quoted_key) {
  size_t at = ValueOf(json, quoted_key);
  if (at == std::string_view::npos || at >= json.size() || json[at] != '"') return {};
  const size_t end = json.find('"', at + 1);
  if (end == std::string_view::npos) return {};
  return json.substr(at + 1, end - at - 1);
}

}  // namespace

std::string_view BoardFrameType(std::string_view json) { return StringValue(json, "\"type\""); }

std::string_view ErrorFrameCode(std::string_view json) {
  if (BoardFrameType(json) != "error") return {};
  return StringValue(json, "\"code\"");
}

std::string PlaceFrame(const BoardPixel& p) {
  return "{\"type\":\"place\",\"x\":" + std::to_string(p.x) + ",\"y\":" + std::to_string(p.y) +
         ",\"color\":" + std::to_string(p.color) + "}";
}

bool ParsePixelsFrame(std::string_view json, PixelsFrame* out) {
  out->pixels.clear();
  if (BoardFrameType(json) != "pixels") return false;
  size_t at = ValueOf(json, "\"prev\"");
  if (at == std::string_view::npos || !ReadInt(json, &at, &out->prev)) return false;
  at = ValueOf(json, "\"v\"");
  if (at == std::string_view::npos || !ReadInt(json, &at, &out->v)) return false;
  at = ValueOf(json, "\"pixels\"");
  if (at == std::string_view::npos || !Expect(json, &at, '[')) return false;
  SkipSpace(json, &at);
  if (at < json.size() && json[at] == ']') return true;
  for (;;) {
    int64_t x, y, c;
    if (!Expect(json, &at, '[') || !ReadInt(json, &at, &x) || !Expect(json, &at, ',') || !ReadInt(json, &at, &y) ||
        !Expect(json, &at, ',') || !ReadInt(json, &at, &c) || !Expect(json, &at, ']'))
      return false;
    if (x > INT32_MAX || y > INT32_MAX || c > INT32_MAX) return false;
    out->pixels.push_back(BoardPixel{static_cast<int>(x), static_cast<int>(y), static_cast<int>(c)});
    SkipSpace(json, &at);
    if (at < json.size() && json[at] == ']') return true;
    if (!Expect(json, &at, ',')) return false;
  }
}

bool PixelSet::Add(uint64_t k) {
  if (k >= capacity_) return false;
  uint64_t& word = words_[k / 64];
  const uint64_t bit = uint64_t{1} << (k % 64);
  if (word & bit) return false;
  word |= bit;
  ++count_;
  return true;
}

void PixelSet::Merge(const PixelSet& other) {
  count_ = 0;
  for (size_t i = 0; i < words_.size(); ++i) {
    if (i < other.words_.size()) words_[i] |= other.words_[i];
    count_ += static_cast<uint64_t>(std::popcount(words_[i]));
  }
}

uint64_t PixelSet::Missing(const PixelSet& wanted) const {
  uint64_t missing = 0;
  for (size_t i = 0; i < wanted.words_.size(); ++i) {
    const uint64_t mine = i < words_.size() ? words_[i] : 0;
    missing += static_cast<uint64_t>(std::popcount(wanted.words_[i] & ~mine));
  }
  return missing;
}

}  // namespace chatpipe::bench
