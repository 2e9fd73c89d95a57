// Where a replay starts or ends, as the command line gives it (`--from`, `--to`): `earliest`, `latest`,
// an RFC 3339 time, or a `partition:offset` list. Only parsing here; replay_reader.h turns a bound into
// offsets per partition against the topic.
#pragma once

#include <cstdint>
#include <map>
#include <string_view>

#include "common/status.h"

namespace chatpipe {

struct RangeBound {
  enum class Kind { kEarliest, kLatest, kTime, kOffsets };
  Kind kind = Kind::kEarliest;
  int64_t time_ms = 0;                  // kTime: ms since the epoch
  std::map<int32_t, int64_t> offsets;   // kOffsets: partition -> offset
};

// "earliest", "latest", an RFC 3339 time as common/rfc3339.h reads it (e.g. "2026-12-03T10:00:00Z"),
// or "0:120,3:7". Anything else is kInvalidArgument naming what was wrong.
Result<RangeBound> ParseRangeBound(std::string_view text);

// Whether [from, to) can hold anything: kInvalidArgument "bad_range" for a `to` of "earliest", two times
// with `to` not after `from`, and two offset lists with `to` not after `from` on a partition of both.
// A mistake of that kind would otherwise read nothing and succeed.
Status CheckRange(const RangeBound& from, const RangeBound& to);

}  // namespace chatpipe
