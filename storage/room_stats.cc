#include "storage/room_stats.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "common/rfc3339.h"

namespace chatpipe {
namespace {

constexpr int64_t kMinuteMs = 60'000, kHourMs = 3'600'000, kDayMs = 86'400'000;
// 9999-12-31T23:59:59.999Z: far enough for anyone, and no overflow in the arithmetic below.
constexpr int64_t kLatestMs = 253'402'300'799'999;

// ms since the epoch or an RFC 3339 time, within [0, kLatestMs].
std::optional<int64_t> ParseTime(const std::string& s) {
  int64_t ms = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), ms);
  if (ec != std::errc() || p != s.data() + s.size()) {
    auto t = ParseRfc3339(s);
    if (!t.ok()) return std::nullopt;
    ms = *t;
  }
  if (ms < 0 || ms > kLatestMs) return std::nullopt;
  return ms;
}

void WriteRatio(rapidjson::Writer<rapidjson::StringBuffer>& w, double part, int64_t whole) {
  if (whole == 0) w.Null();
  else w.Double(std::round(part / static_cast<double>(whole) * 1e4) / 1e4);
}

// A bucket's (or the range's) figures; the three ratios are over the tagged messages, null without any.
void WriteFigures(rapidjson::Writer<rapidjson::StringBuffer>& w, const StatsBucket& b, bool active_users) {
  w.Key("messages");
  w.Int64(b.messages);
  if (active_users) {
    w.Key("active_users");
    w.Int64(b.active_users);
  }
  w.Key("tagged");
  w.Int64(b.tagged);
  w.Key("mean_sentiment");
  WriteRatio(w, static_cast<double>(b.sentiment_milli) / 1000, b.tagged);
  w.Key("negative_share");
  WriteRatio(w, static_cast<double>(b.negative), b.tagged);
  w.Key("profanity_rate");
  WriteRatio(w, static_cast<double>(b.profane), b.tagged);
}

}  // namespace

Result<StatsRange> ParseStatsRange(const std::optional<std::string>& from, const std::optional<std::string>& to,
                                   const std::optional<std::string>& bucket, int64_t now_ms) {
  StatsRange r;
  r.bucket = bucket.value_or("hour");
  if (r.bucket == "minute") r.width_ms = kMinuteMs;
  else if (r.bucket == "hour") r.width_ms = kHourMs;
  else if (r.bucket == "day") r.width_ms = kDayMs;
  else return Status::InvalidArgument("bad_bucket", "bucket must be minute, hour or day");
  constexpr const char* kTimes = " must be ms since the epoch or an RFC 3339 time (2026-12-03T10:00:00Z), year 1970 to 9999";
  std::optional<int64_t> end = to ? ParseTime(*to) : std::optional<int64_t>(now_ms);
  if (!end) return Status::InvalidArgument("bad_to", std::string("to") + kTimes);
  std::optional<int64_t> start = from ? ParseTime(*from) : std::optional<int64_t>(std::max<int64_t>(*end - kDayMs, 0));
  if (!start) return Status::InvalidArgument("bad_from", std::string("from") + kTimes);
  if (*start >= *end) return Status::InvalidArgument("bad_range", "from must be before to");
  r.from_ms = *start - *start % r.width_ms;
  r.to_ms = (*end + r.width_ms - 1) / r.width_ms * r.width_ms;
  if (r.buckets() > kMaxStatsBuckets)
    return Status::InvalidArgument(
        "too_many_buckets", "the range holds " + std::to_string(r.buckets()) + " " + r.bucket + " buckets; at most " +
                                std::to_string(kMaxStatsBuckets) + ": take a shorter range or a wider bucket");
  return r;
}

Result<RoomStats> QueryRoomStats(PgConn& pg, int64_t room, const StatsRange& range) {
  RoomStats stats;
  stats.room = room;
  stats.range = range;
  for (int64_t t = range.from_ms; t < range.to_ms; t += range.width_ms) stats.buckets.push_back({.start_ms = t});
  auto at = [&](int64_t start) -> StatsBucket& { return stats.buckets[(start - range.from_ms) / range.width_ms]; };
  const std::string id = std::to_string(room), from = std::to_string(range.from_ms), to = std::to_string(range.to_ms);

  const std::string width = std::to_string(range.width_ms);
  auto posted = pg.Exec(
      "SELECT bucket, messages, active_users FROM room_buckets "
      "WHERE room_id = $1 AND width = $2 AND bucket >= $3 AND bucket < $4",
      {id, width, from, to});
  if (!posted.ok()) return posted.status();
  for (int i = 0; i < posted->rows(); ++i) {
    StatsBucket& b = at(posted->Int(i, 0));
    b.messages = posted->Int(i, 1);
    b.active_users = posted->Int(i, 2);
  }

  auto tags = pg.Exec(
      "SELECT bucket, tagged, sentiment_milli, negative, profane FROM room_tag_buckets "
      "WHERE room_id = $1 AND width = $2 AND bucket >= $3 AND bucket < $4",
      {id, width, from, to});
  if (!tags.ok()) return tags.status();
  for (int i = 0; i < tags->rows(); ++i) {
    StatsBucket& b = at(tags->Int(i, 0));
    b.tagged = tags->Int(i, 1);
    b.sentiment_milli = tags->Int(i, 2);
    b.negative = tags->Int(i, 3);
    b.profane = tags->Int(i, 4);
  }

  for (const StatsBucket& b : stats.buckets) {
    stats.totals.messages += b.messages;
    stats.totals.tagged += b.tagged;
    stats.totals.sentiment_milli += b.sentiment_milli;
    stats.totals.negative += b.negative;
    stats.totals.profane += b.profane;
  }

  // The whole days inside the range from the day rollup, the edges from the range's own width: a
  // month by the hour reads 30 rows per user instead of 720 (bench/README.md).
  int64_t days_from = (range.from_ms + kDayMs - 1) / kDayMs * kDayMs, days_to = range.to_ms / kDayMs * kDayMs;
  if (days_from >= days_to) days_from = days_to = range.to_ms;
  auto mentioned = pg.Exec(
      "SELECT x.user_id, u.name, x.n FROM ("
      "  SELECT user_id, sum(mentions) AS n FROM room_mention_buckets "
      "  WHERE room_id = $1 AND ((width = $2 AND (bucket >= $3 AND bucket < $4 OR bucket >= $5 AND bucket < $6)) "
      "                          OR (width = 86400000 AND bucket >= $4 AND bucket < $5)) "
      "  GROUP BY user_id HAVING sum(mentions) > 0 ORDER BY n DESC, user_id LIMIT 10) x "
      "JOIN users u ON u.id = x.user_id ORDER BY x.n DESC, x.user_id",
      {id, width, from, std::to_string(days_from), std::to_string(days_to), to});
  if (!mentioned.ok()) return mentioned.status();
  for (int i = 0; i < mentioned->rows(); ++i)
    stats.top_mentioned.push_back(
        {mentioned->Int(i, 0), std::string(mentioned->Text(i, 1)), mentioned->Int(i, 2)});
  return stats;
}

std::string RoomStatsJson(const RoomStats& stats) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("room");
  w.Int64(stats.room);
  w.Key("from");
  w.Int64(stats.range.from_ms);
  w.Key("to");
  w.Int64(stats.range.to_ms);
  w.Key("bucket");
  w.String(stats.range.bucket.c_str());
  w.Key("buckets");
  w.StartArray();
  for (const StatsBucket& b : stats.buckets) {
    w.StartObject();
    w.Key("start");
    w.Int64(b.start_ms);
    WriteFigures(w, b, true);
    w.EndObject();
  }
  w.EndArray();
  w.Key("totals");
  w.StartObject();
  WriteFigures(w, stats.totals, false);
  w.EndObject();
  w.Key("top_mentioned");
  w.StartArray();
  for (const MentionedUser& u : stats.top_mentioned) {
    w.StartObject();
    w.Key("user");
    w.StartObject();
    w.Key("id");
    w.Int64(u.id);
    w.Key("name");
    w.String(u.name.data(), static_cast<rapidjson::SizeType>(u.name.size()));
    w.EndObject();
    w.Key("mentions");
    w.Int64(u.mentions);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace chatpipe
