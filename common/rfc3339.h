// The one reader and writer of RFC 3339 times, for everything that takes a time from a person: replay's
// `--from`/`--to`, the workers' range runs, `groups reset --to-datetime`, the stats API's `from`/`to`.
//
// ParseRfc3339 reads a date-time as milliseconds since the Unix epoch, by the strict rule of RFC 3339
// section 5.6: a full date, `T`, a time of day, an optional fraction (digits past the millisecond
// dropped) and a zone, `Z` or `+HH:MM`/`-HH:MM`. Allowed by the RFC: `t` and `z` in lower case and a space
// for the `T`. Refused: a date alone, a time without a zone, anything after the zone (kInvalidArgument
// `bad_time`, the reason naming what is wrong). A leap second (`:60`) is the next minute's start, as
// Unix time counts it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace chatpipe {

Result<int64_t> ParseRfc3339(std::string_view text);

// ms since the epoch as "2026-12-03T10:00:00.250Z", which ParseRfc3339 reads back.
std::string FormatRfc3339(int64_t ms);

}  // namespace chatpipe
