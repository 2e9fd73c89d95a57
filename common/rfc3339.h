// ParseRfc3339: an RFC 3339 time ("2026-12-03T10:00:00Z", "2026-12-03T11:00:00.250+01:00") as
// milliseconds since the Unix epoch, for the command lines that take a time (`--from`, `--to-datetime`).
// A date alone ("2026-12-03") means its midnight UTC. Anything else is refused with the reason.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace chatpipe {

Result<int64_t> ParseRfc3339(std::string_view text);

}  // namespace chatpipe
