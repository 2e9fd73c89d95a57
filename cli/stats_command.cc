#include "cli/stats_command.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <ctime>
#include <iostream>
#include <optional>

#include "common/config.h"
#include "common/message_id.h"
#include "storage/chat_store.h"
#include "storage/pg.h"

namespace chatpipe {
namespace {

std::string Utc(int64_t ms) {
  std::time_t s = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}

std::string Share(double part, int64_t whole, double scale, const char* unit) {
  if (whole == 0) return "-";
  return fmt::format("{:.{}f}{}", part / static_cast<double>(whole) * scale, scale == 1 ? 3 : 1, unit);
}

// `users` is empty for the totals line (see RoomStats::totals).
std::string Row(const std::string& label, const StatsBucket& b, const std::string& users) {
  return fmt::format("{:<21} {:>9} {:>7} {:>7} {:>9} {:>9} {:>9}\n", label, b.messages, users, b.tagged,
                     Share(static_cast<double>(b.sentiment_milli) / 1000, b.tagged, 1, ""),
                     Share(static_cast<double>(b.negative), b.tagged, 100, "%"),
                     Share(static_cast<double>(b.profane), b.tagged, 100, "%"));
}

}  // namespace

std::string StatsTable(const RoomStats& stats) {
  std::string out = fmt::format("room {}, {} to {}, by {}\n", stats.room, Utc(stats.range.from_ms),
                                Utc(stats.range.to_ms), stats.range.bucket);
  out += fmt::format("{:<21} {:>9} {:>7} {:>7} {:>9} {:>9} {:>9}\n", "start (UTC)", "messages", "users", "tagged",
                     "sentiment", "negative", "profane");
  for (const StatsBucket& b : stats.buckets) out += Row(Utc(b.start_ms), b, std::to_string(b.active_users));
  out += Row("total", stats.totals, "");
  out += "top mentioned:";
  if (stats.top_mentioned.empty()) out += " none";
  for (const MentionedUser& u : stats.top_mentioned) out += fmt::format(" {} ({})", u.name, u.mentions);
  return out + "\n";
}

void AddStatsCommand(CLI::App& app) {
  struct Options {
    CommonConfig common;
    int64_t room = 0;
    std::optional<std::string> from, to, bucket;
    std::string format = "table";
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("stats", "a room's statistics over a time range (as GET /api/rooms/{id}/stats)");
  AddCommonOptions(cmd, &o->common);
  cmd->add_option("--room", o->room, "the room's id")->required();
  cmd->add_option("--from", o->from, "start: ms since the epoch or RFC 3339 (default: a day before --to)");
  cmd->add_option("--to", o->to, "end: ms since the epoch or RFC 3339 (default: now)");
  cmd->add_option("--bucket", o->bucket, "minute, hour or day (default: hour)");
  cmd->add_option("--format", o->format, "json (the API's answer) or table")
      ->check(CLI::IsMember({"json", "table"}))
      ->capture_default_str();
  cmd->callback([o] {
    ApplyLogLevel(o->common);
    auto fail = [](const Status& s) {
      spdlog::error("stats: {}", s.ToString());
      throw CLI::RuntimeError(1);
    };
    auto range = ParseStatsRange(o->from, o->to, o->bucket, static_cast<int64_t>(NowMs()));
    if (!range.ok()) fail(range.status());
    PgConn pg(o->common.pg_conninfo);
    if (auto room = GetRoom(pg, o->room); !room.ok()) fail(room.status());
    auto stats = QueryRoomStats(pg, o->room, *range);
    if (!stats.ok()) fail(stats.status());
    std::cout << (o->format == "json" ? RoomStatsJson(*stats) + "\n" : StatsTable(*stats));
    std::cout.flush();
  });
}

}  // namespace chatpipe
