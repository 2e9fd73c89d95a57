// Where a replay starts or ends, as the command line gives it (`--from`, `--to`): `earliest`, `latest`,
// an RFC 3339 time, or a `partition:offset` list. Only parsing here; replay_reader.h turns a bound into
// offsets per partition against the topic.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace chatpipe {

struct RangeBound {
  enum class Kind { kEarliest, kLatest, kTime, kOffsets };
  Kind kind = Kind::kEarliest;
  int64_t time_ms = 0;                  // kTime: ms since the epoch
  std::map<int32_t, int64_t> offsets;   // kOffsets: partition -> offset
};

// "earliest", "latest", "2026-12-03T10:00:00Z" (fraction and offset optional, e.g. "...10:00:00.250+01:00"),
// or "0:120,3:7". Anything else is kInvalidArgument naming what was wrong.
Result<RangeBound> ParseRangeBound(std::string_view text);

// RFC 3339 date-time (the separator may be T, t or a space; the zone Z, z or ±HH:MM) to ms since the
// epoch; digits of a fraction past milliseconds are dropped.
Result<int64_t> ParseRfc3339(std::string_view text);
// ms since the epoch as "2026-12-03T10:00:00.250Z".
std::string FormatRfc3339(int64_t ms);

}  // namespace chatpipe
