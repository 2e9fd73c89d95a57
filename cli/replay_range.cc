#include "cli/replay_range.h"

#include <charconv>

#include "common/rfc3339.h"

namespace chatpipe {
namespace {

Status Bad(std::string detail) { return Status::InvalidArgument("bad_range", std::move(detail)); }

Result<RangeBound> ParseOffsets(std::string_view text) {
  RangeBound b;
  b.kind = RangeBound::Kind::kOffsets;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (comma != std::string_view::npos && text.empty()) return Bad("a partition:offset list ends with a comma");
    size_t colon = item.find(':');
    if (colon == std::string_view::npos) return Bad("'" + std::string(item) + "' is not partition:offset");
    int32_t partition = 0;
    int64_t offset = 0;
    auto p = std::from_chars(item.data(), item.data() + colon, partition);
    auto o = std::from_chars(item.data() + colon + 1, item.data() + item.size(), offset);
    if (p.ec != std::errc() || p.ptr != item.data() + colon || o.ec != std::errc() ||
        o.ptr != item.data() + item.size() || partition < 0 || offset < 0)
      return Bad("'" + std::string(item) + "' is not partition:offset (two non-negative integers)");
    if (!b.offsets.emplace(partition, offset).second)
      return Bad("partition " + std::to_string(partition) + " is given twice");
  }
  if (b.offsets.empty()) return Bad("empty partition:offset list");
  return b;
}

}  // namespace

Result<RangeBound> ParseRangeBound(std::string_view text) {
  RangeBound b;
  if (text == "earliest") return b;
  if (text == "latest") {
    b.kind = RangeBound::Kind::kLatest;
    return b;
  }
  // A time starts with a four-digit year and a dash; a list starts with a partition and a colon.
  if (text.size() > 4 && text[4] == '-') {
    auto ms = ParseRfc3339(text);
    if (!ms.ok()) return ms.status();
    b.kind = RangeBound::Kind::kTime;
    b.time_ms = *ms;
    return b;
  }
  if (text.find(':') != std::string_view::npos) return ParseOffsets(text);
  return Bad("'" + std::string(text) + "' is none of earliest, latest, an RFC 3339 time, partition:offset,...");
}

Status CheckRange(const RangeBound& from, const RangeBound& to) {
  using Kind = RangeBound::Kind;
  if (to.kind == Kind::kEarliest) return Bad("--to earliest leaves nothing: --to is where the range ends, excluded");
  if (from.kind == Kind::kTime && to.kind == Kind::kTime && to.time_ms <= from.time_ms)
    return Bad("--to must be after --from");
  if (from.kind == Kind::kOffsets && to.kind == Kind::kOffsets)
    for (const auto& [partition, end] : to.offsets)
      if (auto start = from.offsets.find(partition); start != from.offsets.end() && end <= start->second)
        return Bad("partition " + std::to_string(partition) + ": --to " + std::to_string(end) +
                   " is not after --from " + std::to_string(start->second));
  return Status::Ok();
}

}  // namespace chatpipe
