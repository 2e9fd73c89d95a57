#include "storage/room_stats.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>
#include <chrono>
#include <cstdio>


namespace chatpipe {
namespace {

constexpr int64_t kMinuteMs = 60'000, kHourMs = 3'600'000, kDayMs = 86'400'000;
// 9999-12-31T23:59:59.999Z: far enough for anyone, and no overflow in the arithmetic below.
constexpr int64_t kLatestMs = 253'402'300'799'999;

// "2026-12-03T10:00:00Z", "2026-12-03T10:00:00.250+01:00" (RFC 3339, T or space).
std::optional<int64_t> ParseRfc3339(const std::string& s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, used = 0;
  char t = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &y, &mo, &d, &t, &h, &mi, &sec, &used) != 7 || used != 19 ||
      (t != 'T' && t != 't' && t != ' ') || h > 23 || mi > 59 || sec > 60)
    return std::nullopt;
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  int64_t ms = duration_cast<milliseconds>(sys_days{ymd}.time_since_epoch()).count() +
               ((h * 60 + mi) * 60 + sec) * 1000LL;
  std::string_view rest = std::string_view(s).substr(19);
  if (!rest.empty() && rest[0] == '.') {
    size_t digits = 1;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
    if (digits == 1) return std::nullopt;
    int frac = 0;
    for (size_t i = 1; i < std::min<size_t>(digits, 4); ++i) frac = frac * 10 + (rest[i] - '0');
    for (size_t i = digits; i < 4; ++i) frac *= 10;
    ms += frac;
    rest.remove_prefix(digits);
  }
  if (rest == "Z" || rest == "z") return ms;
  int oh = 0, om = 0;
  if (rest.size() != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':' ||
      std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &oh, &om) != 2 || oh > 23 || om > 59)
    return std::nullopt;
  int64_t offset = (oh * 60 + om) * 60'000LL;
  return rest[0] == '+' ? ms - offset : ms + offset;
}

// ms since the epoch or an RFC 3339 time, within [0, kLatestMs].
std::optional<int64_t> ParseTime(const std::string& s) {
  int64_t ms = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), ms);
  std::optional<int64_t> t;
  if (ec == std::errc() && p == s.data() + s.size()) t = ms;
  else if (ec != std::errc() || p != s.data()) t = ParseRfc3339(s);
  if (!t || *t < 0 || *t > kLatestMs) return std::nullopt;
  return t;
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
