// RoomStats: a room's shape over a time range — per bucket its messages, active users, mean
// sentiment, share of negative messages and profanity rate, and its most mentioned users — read from
// the rollups that 010_room_stats.sql keeps (room_buckets, room_tag_buckets, room_mention_buckets).
//
// The one way to ask for statistics: ingress's GET /api/rooms/{id}/stats and `chatpipe stats` both
// parse their parameters with ParseStatsRange, query with QueryRoomStats (blocking: a DbPool thread or
// the command's own connection) and write RoomStatsJson. Who may read a room is the caller's check.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/pg.h"

namespace chatpipe {

// More buckets than this is refused (too_many_buckets): the answer and the query stay bounded.
inline constexpr int64_t kMaxStatsBuckets = 10000;

// A range of whole buckets: `from_ms` floored and `to_ms` rounded up to the bucket width (UTC).
struct StatsRange {
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  std::string bucket;  // minute, hour or day
  int64_t width_ms = 0;
  int64_t buckets() const { return (to_ms - from_ms) / width_ms; }
};

// `from` and `to` are ms since the epoch or RFC 3339 times (2026-12-03T10:00:00Z, +01:00 offsets);
// absent, `to` is `now_ms` and `from` one day before `to`; `bucket` defaults to hour. Refusals (400):
// bad_from, bad_to, bad_bucket, bad_range (from not before to), too_many_buckets.
Result<StatsRange> ParseStatsRange(const std::optional<std::string>& from, const std::optional<std::string>& to,
                                   const std::optional<std::string>& bucket, int64_t now_ms);

struct StatsBucket {
  int64_t start_ms = 0;
  int64_t messages = 0;
  int64_t active_users = 0;
  int64_t tagged = 0;  // messages with tags so far: the denominator of the three figures below
  int64_t sentiment_milli = 0;
  int64_t negative = 0;
  int64_t profane = 0;
};

struct MentionedUser {
  int64_t id = 0;
  std::string name;
  int64_t mentions = 0;
};

struct RoomStats {
  int64_t room = 0;
  StatsRange range;
  std::vector<StatsBucket> buckets;  // every bucket of the range, oldest first, empty ones too
  // Sums over the range. Not active_users: distinct posters over a long range would read every
  // poster of every bucket, as costly as the rest together times ten (bench/README.md).
  StatsBucket totals;
  std::vector<MentionedUser> top_mentioned;  // up to 10, most @name mentions first
};

Result<RoomStats> QueryRoomStats(PgConn& pg, int64_t room, const StatsRange& range);

// docs/protocol.md, "Room statistics".
std::string RoomStatsJson(const RoomStats& stats);

}  // namespace chatpipe
