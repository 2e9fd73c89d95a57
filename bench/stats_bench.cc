// stats_bench: how long a room's statistics take (storage/room_stats.h, GET /api/rooms/{id}/stats) for
// a room of a million messages, and what keeping the rollups costs the writers.
//
// On a database of its own (created on --pg's server, migrated, dropped at the end unless --keep) it
//   1. seeds --messages messages over --days days into one room (plus a fifth as many into another),
//      from --users users of very unequal activity, straight into PostgreSQL (generate_series), with
//      tags for every message and an @name mention on one message in ten; the rollup triggers run as
//      they do for the workers;
//   2. times QueryRoomStats (every statement the API runs) for minute, hour and day buckets over the
//      last day, week and month: median and worst of --runs runs after two warm-ups;
//   3. times the same figures summed from messages and message_tags without the rollups, once per range
//      at hour buckets, for comparison;
//   4. times chat_persist and the tag worker's INSERT for --batches batches of 500 new events, with
//      the rollup triggers and without them.
// Prints figures, asserts nothing.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/message_id.h"
#include "storage/migrate.h"
#include "storage/pg.h"
#include "storage/room_stats.h"

namespace chatpipe {
namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

void Must(const Result<PgResult>& r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "stats_bench: %s: %s\n", what, r.status().ToString().c_str());
    std::exit(1);
  }
}

double Timed(PgConn& pg, const std::string& sql, const std::vector<PgParam>& params, const char* what) {
  auto t0 = Clock::now();
  Must(pg.Exec(sql.c_str(), params), what);
  return Ms(Clock::now() - t0);
}

// Seeds room 1 (n messages) and room 2 (n / 5) ending at `end_ms`; returns the seconds it took.
double Seed(PgConn& pg, int64_t n, int days, int users, int64_t end_ms) {
  auto t0 = Clock::now();
  Must(pg.Exec("SELECT setseed(0.42)"), "setseed");
  Must(pg.Exec("INSERT INTO users (name) SELECT 'user' || g FROM generate_series(1, $1::int) g",
               {std::to_string(users)}),
       "users");
  for (auto [room, count] : {std::pair<int, int64_t>{1, n}, {2, n / 5}}) {
    // Evenly spread, a random jitter inside each message's slot (so ids stay unique and ordered);
    // user ids skewed: a few users write most messages. Ids as ingress stamps them (common/message_id.h).
    std::string sql =
        "INSERT INTO messages (id, room_id, pos, user_id, user_name, body, ts) "
        "SELECT ((s.ts - " + std::to_string(MessageIdGenerator::kEpochMs) + ") << 22) + $1, $1, s.g, s.u, 'user' || s.u, "
        "       'message ' || s.g, s.ts "
        "FROM (SELECT g, ($2::bigint - $3::bigint * $4::bigint + g * ($3::bigint * $4::bigint / $5::bigint) "
        "             + floor(random() * ($3::bigint * $4::bigint / $5::bigint))::bigint) AS ts, "
        "             1 + floor($6::int * power(random(), 3))::bigint AS u "
        "        FROM generate_series(0, $5::bigint - 1) g) s";
    Must(pg.Exec(sql.c_str(), {std::to_string(room), std::to_string(end_ms), std::to_string(days),
                               std::to_string(86'400'000), std::to_string(count), std::to_string(users)}),
         "messages");
    Must(pg.Exec("INSERT INTO message_tags (message_id, room_id, tags) "
                 "SELECT m.id, m.room_id, jsonb_build_object('lang', 'en', "
                 "  'sentiment', jsonb_build_object('label', CASE WHEN s.score <= -0.05 THEN 'negative' "
                 "    WHEN s.score >= 0.05 THEN 'positive' ELSE 'neutral' END, 'score', s.score), "
                 "  'profanity', jsonb_build_object('flagged', random() < 0.04, 'terms', '[]'::jsonb)) "
                 "FROM messages m, LATERAL (SELECT round((random() * 2 - 1)::numeric, 3) AS score) s "
                 "WHERE m.room_id = $1",
                 {std::to_string(room)}),
         "tags");
    Must(pg.Exec("INSERT INTO mentions (message_id, room_id, user_id, kind) "
                 "SELECT m.id, m.room_id, 1 + floor($2::int * power(random(), 2))::bigint, 'user' "
                 "FROM messages m WHERE m.room_id = $1 AND random() < 0.1 ON CONFLICT DO NOTHING",
                 {std::to_string(room), std::to_string(users)}),
         "mentions");
  }
  Must(pg.Exec("VACUUM ANALYZE"), "vacuum");
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void TimeQueries(PgConn& pg, int64_t end_ms, int runs) {
  std::printf("\nQueryRoomStats, room 1, ranges ending at the newest message (ms: median / worst of %d):\n", runs);
  std::printf("%-6s %-7s %8s %10s %10s\n", "range", "bucket", "buckets", "median", "worst");
  for (auto [name, days] : {std::pair<const char*, int>{"day", 1}, {"week", 7}, {"month", 30}}) {
    for (const char* bucket : {"minute", "hour", "day"}) {
      auto range = ParseStatsRange(std::to_string(end_ms - days * 86'400'000LL), std::to_string(end_ms), bucket, 0);
      if (!range.ok()) {
        std::printf("%-6s %-7s %8s %s\n", name, bucket, "-", range.status().name().c_str());
        continue;
      }
      std::vector<double> times;
      int64_t messages = 0;
      for (int i = 0; i < runs + 2; ++i) {
        auto t0 = Clock::now();
        auto stats = QueryRoomStats(pg, 1, *range);
        double ms = Ms(Clock::now() - t0);
        if (!stats.ok()) {
          std::fprintf(stderr, "stats_bench: %s\n", stats.status().ToString().c_str());
          std::exit(1);
        }
        messages = 0;
        for (const auto& b : stats->buckets) messages += b.messages;
        if (i >= 2) times.push_back(ms);
      }
      std::sort(times.begin(), times.end());
      std::printf("%-6s %-7s %8lld %10.1f %10.1f   (%lld messages)\n", name, bucket,
                  static_cast<long long>(range->buckets()), times[times.size() / 2], times.back(),
                  static_cast<long long>(messages));
    }
  }
}

void TimeWithoutRollups(PgConn& pg, int64_t end_ms) {
  std::printf("\nThe same figures from messages and message_tags, no rollups (hour buckets, one run, ms):\n");
  for (auto [name, days] : {std::pair<const char*, int>{"day", 1}, {"week", 7}, {"month", 30}}) {
    double ms = Timed(pg,
                      "SELECT m.ts - m.ts % 3600000, count(*), count(DISTINCT m.user_id), count(t.message_id), "
                      "  sum((t.tags->'sentiment'->>'score')::numeric), "
                      "  count(*) FILTER (WHERE t.tags->'sentiment'->>'label' = 'negative'), "
                      "  count(*) FILTER (WHERE (t.tags->'profanity'->>'flagged')::boolean) "
                      "FROM messages m LEFT JOIN message_tags t ON t.message_id = m.id "
                      "WHERE m.room_id = 1 AND m.ts >= $1 AND m.ts < $2 GROUP BY 1",
                      {std::to_string(end_ms - days * 86'400'000LL), std::to_string(end_ms)}, "raw");
    std::printf("%-6s %10.1f\n", name, ms);
  }
}

void SetRollupTriggers(PgConn& pg, bool on) {
  const std::string alter = on ? "ENABLE" : "DISABLE";
  Must(pg.Exec(("ALTER TABLE messages " + alter + " TRIGGER messages_room_buckets").c_str()), "alter");
  Must(pg.Exec(("ALTER TABLE message_tags " + alter + " TRIGGER message_tags_insert_stats").c_str()), "alter");
}

// chat_persist and the tag worker's INSERT for `batches` batches of 500 new events in room 3, every
// other batch without the rollup triggers (alternating, so both see the same tables and machine).
void TimeWrites(PgConn& pg, int batches, int64_t* next_ms) {
  std::printf("\nWrites, %d batches of 500 new events, alternately with and without the rollup triggers "
              "(ms per batch):\n", batches);
  double persist[2] = {0, 0}, tags[2] = {0, 0};
  for (int b = 0; b < batches; ++b) {
    const bool on = b % 2 == 0;
    SetRollupTriggers(pg, on);
    std::string events = "[", tag_rows = "[";
    for (int i = 0; i < 500; ++i) {
      int64_t ts = (*next_ms)++;
      std::string id = std::to_string((ts - static_cast<int64_t>(MessageIdGenerator::kEpochMs)) << 22);
      std::string user = std::to_string(1 + i % 50);
      events += (i ? "," : "") + std::string("{\"id\":\"") + id + "\",\"room\":3,\"user\":{\"id\":" + user +
                ",\"name\":\"user" + user + "\"},\"text\":\"hello\",\"ts\":" + std::to_string(ts) + "}";
      tag_rows += (i ? "," : "") + std::string("{\"id\":") + id +
                  ",\"room\":3,\"tags\":{\"sentiment\":{\"label\":\"neutral\",\"score\":0.0},"
                  "\"profanity\":{\"flagged\":false}},\"v\":null}";
    }
    persist[on] += Timed(pg, "SELECT count(*) FROM chat_persist($1::jsonb)", {events + "]"}, "persist");
    tags[on] += Timed(pg,
                      "INSERT INTO message_tags (message_id, room_id, tags, tagger_version) "
                      "SELECT (x->>'id')::bigint, (x->>'room')::bigint, x->'tags', x->>'v' "
                      "FROM jsonb_array_elements($1::jsonb) AS x ON CONFLICT (message_id) DO NOTHING",
                      {tag_rows + "]"}, "tags");
  }
  SetRollupTriggers(pg, true);
  const double half = batches / 2.0;
  std::printf("with rollups      persist %6.2f   tags %6.2f\n", persist[1] / half, tags[1] / half);
  std::printf("without rollups   persist %6.2f   tags %6.2f\n", persist[0] / half, tags[0] / half);
}

}  // namespace
}  // namespace chatpipe

int main(int argc, char** argv) {
  using namespace chatpipe;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  CLI::App app{"stats_bench: room statistics over a seeded room of a million messages"};
  std::string conninfo = std::getenv("CHATPIPE_PG") ? std::getenv("CHATPIPE_PG") : "dbname=postgres";
  int64_t messages = 1'000'000;
  int days = 30, users = 2000, runs = 20, batches = 40;
  bool keep = false;
  app.add_option("--pg", conninfo, "PostgreSQL server (a database named stats_bench_* is made there)")
      ->envname("CHATPIPE_PG");
  app.add_option("--messages", messages, "messages in the measured room")->capture_default_str();
  app.add_option("--days", days, "days they span, ending now")->capture_default_str();
  app.add_option("--users", users, "users who write them")->capture_default_str();
  app.add_option("--runs", runs, "timed runs per query")->capture_default_str();
  app.add_option("--batches", batches, "batches of 500 for the write cost")->capture_default_str();
  app.add_flag("--keep", keep, "keep the database (its name is printed)");
  CLI11_PARSE(app, argc, argv);

  const std::string db = "stats_bench_" + std::to_string(NowMs());
  PgConn admin(conninfo);
  Must(admin.Exec(("CREATE DATABASE " + db).c_str()), "create database");
  PgConn pg(conninfo + " dbname=" + db);
  int applied = 0;
  if (Status s = MigrateDatabase(pg, &applied); !s.ok()) {
    std::fprintf(stderr, "stats_bench: migrate: %s\n", s.ToString().c_str());
    return 1;
  }
  auto version = pg.Exec("SELECT current_setting('server_version'), current_setting('shared_buffers'), "
                         "current_setting('work_mem'), current_setting('max_parallel_workers_per_gather')");
  Must(version, "version");
  int64_t end_ms = static_cast<int64_t>(NowMs()) / 60'000 * 60'000;
  std::printf("stats_bench: database %s; PostgreSQL %s, shared_buffers %s, work_mem %s, parallel workers %s\n",
              db.c_str(), std::string(version->Text(0, 0)).c_str(), std::string(version->Text(0, 1)).c_str(),
              std::string(version->Text(0, 2)).c_str(), std::string(version->Text(0, 3)).c_str());
  std::printf("seeding %lld messages over %d days from %d users (+%lld in another room), all tagged, 10%% with a "
              "mention...\n",
              static_cast<long long>(messages), days, users, static_cast<long long>(messages / 5));
  std::fflush(stdout);
  std::printf("seeded in %.1f s\n", Seed(pg, messages, days, users, end_ms));
  std::fflush(stdout);
  auto sizes = pg.Exec("SELECT (SELECT count(*) FROM room_buckets), (SELECT count(*) FROM room_activity), "
                       "pg_size_pretty(pg_total_relation_size('room_buckets') + pg_total_relation_size('room_tag_buckets')), "
                       "pg_size_pretty(pg_total_relation_size('room_activity')), "
                       "pg_size_pretty(pg_total_relation_size('messages')), "
                       "pg_size_pretty(pg_total_relation_size('message_tags'))");
  Must(sizes, "sizes");
  std::printf("rollups: room_buckets %s rows (%s with room_tag_buckets), room_activity %s rows (%s); messages %s, "
              "message_tags %s\n",
              std::string(sizes->Text(0, 0)).c_str(), std::string(sizes->Text(0, 2)).c_str(),
              std::string(sizes->Text(0, 1)).c_str(), std::string(sizes->Text(0, 3)).c_str(),
              std::string(sizes->Text(0, 4)).c_str(), std::string(sizes->Text(0, 5)).c_str());
  TimeQueries(pg, end_ms, runs);
  TimeWithoutRollups(pg, end_ms);
  int64_t next_ms = end_ms + 86'400'000;
  TimeWrites(pg, batches, &next_ms);
  pg.Close();
  if (!keep) Must(admin.Exec(("DROP DATABASE " + db).c_str()), "drop database");
  return 0;
}
