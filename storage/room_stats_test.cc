// Room statistics (storage/room_stats.h): the parameters, and the figures of a room seeded the way the
// workers write — chat_persist batches (replayed, and a client's retry), tags before and after their
// messages (replayed, and re-tagged), mentions — against counts this test makes from what it seeded.
#include "storage/room_stats.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <map>
#include <random>
#include <optional>
#include <set>
#include <tuple>

#include "common/message_id.h"
#include "storage/pg.h"
#include "tests/support/services.h"

namespace chatpipe {
namespace {

constexpr int64_t kMinute = 60'000, kHour = 3'600'000, kDay = 86'400'000;
constexpr int64_t kDec2 = 1'796'169'600'000;  // 2026-12-02T00:00:00Z

TEST(StatsRangeTest, DefaultsToTheLastDayByHour) {
  auto r = ParseStatsRange(std::nullopt, std::nullopt, std::nullopt, kDec2 + 90 * kMinute);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->bucket, "hour");
  EXPECT_EQ(r->from_ms, kDec2 - kDay + kHour);  // floored to the hour
  EXPECT_EQ(r->to_ms, kDec2 + 2 * kHour);       // rounded up to the hour
  EXPECT_EQ(r->buckets(), 25);
}

TEST(StatsRangeTest, ReadsMillisecondsAndRfc3339Times) {
  auto r = ParseStatsRange("2026-12-02T01:30:00+01:00", std::to_string(kDec2 + 2 * kDay), "day", 0);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->from_ms, kDec2);
  EXPECT_EQ(r->to_ms, kDec2 + 2 * kDay);
  auto z = ParseStatsRange("2026-12-02T00:00:00.250Z", "2026-12-02 00:05:00z", "minute", 0);
  ASSERT_TRUE(z.ok()) << z.status().ToString();
  EXPECT_EQ(z->from_ms, kDec2);
  EXPECT_EQ(z->buckets(), 5);
}

TEST(StatsRangeTest, RefusesBadParametersWithTheirCodes) {
  auto code = [](auto from, auto to, auto bucket) {
    auto r = ParseStatsRange(from, to, bucket, kDec2);
    return r.ok() ? std::string("ok") : r.status().name();
  };
  using O = std::optional<std::string>;
  EXPECT_EQ(code(O("yesterday"), O(), O()), "bad_from");
  EXPECT_EQ(code(O("-5"), O(), O()), "bad_from");
  EXPECT_EQ(code(O("2026-02-30T00:00:00Z"), O(), O()), "bad_from");
  EXPECT_EQ(code(O("2026-12-02T00:00:00"), O(), O()), "bad_from");  // no offset
  EXPECT_EQ(code(O(), O("99999999999999999999"), O()), "bad_to");
  EXPECT_EQ(code(O(), O("12abc"), O()), "bad_to");
  EXPECT_EQ(code(O(), O(), O("week")), "bad_bucket");
  EXPECT_EQ(code(O("2000"), O("1000"), O()), "bad_range");
  EXPECT_EQ(code(O("1000"), O("1000"), O()), "bad_range");
  // 10,080 minutes in a week: over the cap; 10,000 exactly is fine.
  EXPECT_EQ(code(O(std::to_string(kDec2)), O(std::to_string(kDec2 + 7 * kDay)), O("minute")), "too_many_buckets");
  EXPECT_EQ(code(O(std::to_string(kDec2)), O(std::to_string(kDec2 + kMaxStatsBuckets * kMinute)), O("minute")), "ok");
}

struct Seeded {
  int64_t id, user, ts;
  bool tagged = false;
  int milli = 0;
  bool negative = false, profane = false;
};

std::string Event(int64_t id, int64_t room, int64_t user, int64_t ts, const std::string& cmid) {
  return "{\"v\":1,\"id\":\"" + std::to_string(id) + "\",\"room\":" + std::to_string(room) + ",\"user\":{\"id\":" +
         std::to_string(user) + ",\"name\":\"u" + std::to_string(user) + "\"},\"text\":\"x\",\"ts\":" +
         std::to_string(ts) + ",\"client_msg_id\":\"" + cmid + "\"}";
}

std::string Tags(const Seeded& m) {
  return "{\"lang\":\"en\",\"sentiment\":{\"label\":\"" +
         std::string(m.negative ? "negative" : m.milli > 0 ? "positive" : "neutral") +
         "\",\"score\":" + std::to_string(m.milli / 1000.0) + "},\"profanity\":{\"flagged\":" +
         (m.profane ? "true" : "false") + ",\"terms\":[]}}";
}

class RoomStatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto services = test::TestServices::Create("stats", 1);
    ASSERT_TRUE(services.ok()) << services.status().ToString();
    services_ = std::move(*services);
    pg_ = std::make_unique<PgConn>(services_->config().pg_conninfo);
  }
  void Sql(const std::string& sql, const std::vector<PgParam>& params = {}) {
    auto r = pg_->Exec(sql.c_str(), params);
    ASSERT_TRUE(r.ok()) << r.status().ToString() << " in " << sql;
  }
  void Persist(const std::vector<std::string>& events) {
    std::string batch = "[";
    for (const auto& e : events) batch += (batch.size() > 1 ? "," : "") + e;
    Sql("SELECT count(*) FROM chat_persist($1::jsonb)", {batch + "]"});
  }
  void StoreTags(const std::vector<Seeded>& ms, int64_t room) {
    for (const Seeded& m : ms)
      if (m.tagged)
        Sql("INSERT INTO message_tags (message_id, room_id, tags) VALUES ($1, $2, $3::jsonb) "
            "ON CONFLICT (message_id) DO NOTHING",
            {std::to_string(m.id), std::to_string(room), Tags(m)});
  }

  std::unique_ptr<test::TestServices> services_;
  std::unique_ptr<PgConn> pg_;
};

TEST_F(RoomStatsTest, FiguresMatchWhatWasSeeded) {
  constexpr int64_t kRoom = 5, kOther = 6;
  const int64_t start = kDec2 + 22 * kHour + 30 * kMinute;  // three hours across midnight
  std::mt19937 rng(7);
  std::vector<int64_t> users;
  for (int i = 0; i < 8; ++i) {
    auto r = pg_->Exec("INSERT INTO users (name) VALUES ($1) RETURNING id", {"stat" + std::to_string(i)});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    users.push_back(r->Int(0, 0));
  }
  MessageIdGenerator ids(1), other_ids(2);
  std::vector<Seeded> ms;
  std::vector<std::string> events, other;
  std::vector<int64_t> other_id;
  std::vector<int64_t> times;  // ascending: a generator's ids follow its clock only forwards
  for (int i = 0; i < 400; ++i) times.push_back(start + static_cast<int64_t>(rng() % (3 * kHour)));
  std::sort(times.begin(), times.end());
  for (int i = 0; i < 400; ++i) {
    Seeded m;
    m.ts = times[i];
    m.id = static_cast<int64_t>(ids.NextAt(static_cast<uint64_t>(m.ts)));
    m.user = users[rng() % 5 == 0 ? rng() % users.size() : rng() % 3];  // a few talk most
    m.tagged = rng() % 10 != 0;
    m.milli = static_cast<int>(rng() % 2001) - 1000;
    m.negative = m.milli <= -50;
    m.profane = rng() % 7 == 0;
    ms.push_back(m);
    events.push_back(Event(m.id, kRoom, m.user, m.ts, "c" + std::to_string(i)));
    other_id.push_back(static_cast<int64_t>(other_ids.NextAt(static_cast<uint64_t>(m.ts))));
    other.push_back(Event(other_id.back(), kOther, m.user, m.ts, "o" + std::to_string(i)));
  }
  // Half the tags come before their messages (the tag worker may be ahead of the persister).
  std::vector<Seeded> first_half(ms.begin(), ms.begin() + 200);
  StoreTags(first_half, kRoom);
  for (size_t i = 0; i < events.size(); i += 50) {
    std::vector<std::string> batch(events.begin() + i, events.begin() + i + 50);
    Persist(batch);
    Persist(batch);  // a replay stores nothing again
  }
  Persist(other);
  // A client's retry: a new id, the same client_msg_id; folded into the first message.
  Persist({Event(static_cast<int64_t>(other_ids.Next()), kRoom, ms[3].user, ms[3].ts, "c3")});
  StoreTags(ms, kRoom);  // the rest, and the first half replayed
  // Re-tagging changes some tags: the old figures must go.
  for (int i = 0; i < 400; i += 9) {
    if (!ms[i].tagged) continue;
    ms[i].milli = -ms[i].milli;
    ms[i].negative = ms[i].milli <= -50;
    ms[i].profane = !ms[i].profane;
    Sql("UPDATE message_tags SET tags = $2::jsonb WHERE message_id = $1", {std::to_string(ms[i].id), Tags(ms[i])});
  }
  // A deleted tag takes its figures out (nothing deletes tags today; the trigger covers it anyway).
  for (int i = 5; i < 400; i += 11) {
    if (!ms[i].tagged) continue;
    ms[i].tagged = false;
    Sql("DELETE FROM message_tags WHERE message_id = $1", {std::to_string(ms[i].id)});
  }
  // Mentions: @name (counted), @room (not), another room's (not), replayed (once).
  std::map<int64_t, int64_t> mentioned_in_range;  // user -> count, for the hour range below
  std::map<int64_t, int64_t> mentioned;           // user -> count, all of them
  const int64_t range_from = start + 30 * kMinute, range_to = start + 150 * kMinute;
  for (int i = 0; i < 400; ++i) {
    int64_t who = users[(i * 7 + i / 50) % users.size()];
    if (i % 3 == 0) continue;
    for (int times = 0; times < 2; ++times)
      Sql("INSERT INTO mentions (message_id, room_id, user_id, kind) VALUES ($1, $2, $3, 'user') "
          "ON CONFLICT (message_id, user_id) DO NOTHING",
          {std::to_string(ms[i].id), std::to_string(kRoom), std::to_string(who)});
    Sql("INSERT INTO mentions (message_id, room_id, user_id, kind) VALUES ($1, $2, $3, 'room') "
        "ON CONFLICT (message_id, user_id) DO NOTHING",
        {std::to_string(ms[i].id), std::to_string(kRoom), std::to_string(users[0] == who ? users[1] : users[0])});
    Sql("INSERT INTO mentions (message_id, room_id, user_id, kind) VALUES ($1, $2, $3, 'user')",
        {std::to_string(other_id[i]), std::to_string(kOther), std::to_string(who)});
    // The range is floored and rounded up to whole hours, as the query will do.
    int64_t lo = range_from - range_from % kHour, hi = (range_to + kHour - 1) / kHour * kHour;
    if (ms[i].ts >= lo && ms[i].ts < hi) ++mentioned_in_range[who];
    ++mentioned[who];
  }

  for (const char* bucket : {"minute", "hour", "day"}) {
    SCOPED_TRACE(bucket);
    auto range = ParseStatsRange(std::to_string(start - kDay), std::to_string(start + kDay), bucket, 0);
    if (std::string(bucket) == "minute")
      range = ParseStatsRange(std::to_string(start), std::to_string(start + 3 * kHour), bucket, 0);
    ASSERT_TRUE(range.ok()) << range.status().ToString();
    auto stats = QueryRoomStats(*pg_, kRoom, *range);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    ASSERT_EQ(static_cast<int64_t>(stats->buckets.size()), range->buckets());
    std::map<int64_t, StatsBucket> want;
    std::map<int64_t, std::set<int64_t>> posters;
    for (const Seeded& m : ms) {
      int64_t b = m.ts - m.ts % range->width_ms;
      StatsBucket& w = want[b];
      ++w.messages;
      posters[b].insert(m.user);
      if (!m.tagged) continue;
      ++w.tagged;
      w.sentiment_milli += m.milli;
      w.negative += m.negative;
      w.profane += m.profane;
    }
    int64_t nonempty = 0;
    for (const StatsBucket& got : stats->buckets) {
      const StatsBucket w = want.count(got.start_ms) ? want[got.start_ms] : StatsBucket{};
      nonempty += got.messages > 0;
      EXPECT_EQ(got.messages, w.messages) << got.start_ms;
      EXPECT_EQ(got.active_users, static_cast<int64_t>(posters[got.start_ms].size())) << got.start_ms;
      EXPECT_EQ(got.tagged, w.tagged) << got.start_ms;
      EXPECT_EQ(got.sentiment_milli, w.sentiment_milli) << got.start_ms;
      EXPECT_EQ(got.negative, w.negative) << got.start_ms;
      EXPECT_EQ(got.profane, w.profane) << got.start_ms;
    }
    EXPECT_EQ(nonempty, static_cast<int64_t>(want.size()));
    EXPECT_EQ(stats->totals.messages, static_cast<int64_t>(ms.size()));
  }

  // Top mentioned: over a few hours, and over two days by the hour (whole days read from the day
  // rollup, the edges by the hour).
  std::optional<RoomStats> stats;
  for (const auto& [lo, hi, counts] : {std::tuple{range_from, range_to, &mentioned_in_range},
                                       std::tuple{start - kDay, start + kDay, &mentioned}}) {
    auto hours = ParseStatsRange(std::to_string(lo), std::to_string(hi), "hour", 0);
    ASSERT_TRUE(hours.ok());
    auto got = QueryRoomStats(*pg_, kRoom, *hours);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    std::vector<std::pair<int64_t, int64_t>> want_top(counts->begin(), counts->end());
    std::sort(want_top.begin(), want_top.end(), [](auto& a, auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    ASSERT_EQ(got->top_mentioned.size(), std::min<size_t>(want_top.size(), 10));
    for (size_t i = 0; i < got->top_mentioned.size(); ++i) {
      EXPECT_EQ(got->top_mentioned[i].id, want_top[i].first) << i;
      EXPECT_EQ(got->top_mentioned[i].mentions, want_top[i].second) << i;
    }
    if (!stats) stats = std::move(*got);
  }
  const int64_t top_id = stats->top_mentioned[0].id;

  rapidjson::Document doc;
  doc.Parse(RoomStatsJson(*stats).c_str());
  ASSERT_TRUE(doc.IsObject());
  int64_t messages = 0;
  for (const auto& b : doc["buckets"].GetArray()) messages += b["messages"].GetInt64();
  EXPECT_EQ(doc["totals"]["messages"].GetInt64(), messages);
  EXPECT_EQ(doc["bucket"].GetString(), std::string("hour"));
  EXPECT_EQ(doc["top_mentioned"][0]["user"]["name"].GetString(), "stat" + std::to_string(top_id - users[0]));
}

}  // namespace
}  // namespace chatpipe
