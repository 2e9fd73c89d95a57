// `chatpipe stats` as an analyst runs it: the real binary on a database of the test's own.
#include "cli/stats_command.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>
#include <sstream>

#include "common/message_id.h"
#include "storage/chat_store.h"
#include "tests/support/child_process.h"
#include "tests/support/services.h"

namespace chatpipe {
namespace {

constexpr int64_t kDec2 = 1'796'169'600'000;  // 2026-12-02T00:00:00Z

class StatsCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto services = test::TestServices::Create("statscmd", 1);
    ASSERT_TRUE(services.ok()) << services.status().ToString();
    services_ = std::move(*services);
    auto dir = test::TempDir::Create("statscmd");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
  }
  // Runs the binary with `extra` arguments: its exit code, and what it printed (output and log).
  int Run(const std::vector<std::string>& extra, std::string* out) {
    const std::string log = dir_->path() + "/out" + std::to_string(runs_++);
    std::vector<std::string> argv = {CHATPIPE_BINARY, "stats", "--pg", services_->config().pg_conninfo};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto child = test::ChildProcess::Spawn(argv, log);
    EXPECT_TRUE(child.ok());
    if (!child.ok()) return -1;
    int code = (*child)->Wait(std::chrono::seconds(30));
    std::stringstream text;
    text << std::ifstream(log).rdbuf();
    *out = text.str();
    return code;
  }

  std::unique_ptr<test::TestServices> services_;
  std::unique_ptr<test::TempDir> dir_;
  int runs_ = 0;
};

TEST_F(StatsCommandTest, PrintsTheApisJsonAndATable) {
  PgConn pg(services_->config().pg_conninfo);
  auto user = CreateGuest(pg);
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  auto room = CreateRoom(pg, user->id, "numbers", false, Moderation{});
  ASSERT_TRUE(room.ok()) << room.status().ToString();
  MessageIdGenerator ids(1);
  for (int64_t at : {kDec2 + 1000, kDec2 + 2000, kDec2 + 3'600'000 + 5}) {
    auto id = std::to_string(ids.NextAt(static_cast<uint64_t>(at)));
    ASSERT_TRUE(pg.Exec("INSERT INTO messages (id, room_id, pos, user_id, user_name, body, ts) "
                        "VALUES ($1, $2, (SELECT count(*) + 1 FROM messages), $3, 'g', 'hi', $4)",
                        {id, std::to_string(room->id), std::to_string(user->id), std::to_string(at)})
                    .ok());
  }
  const std::vector<std::string> range = {"--room", std::to_string(room->id), "--from", "2026-12-02T00:00:00Z",
                                          "--to", "2026-12-02T02:00:00Z"};
  std::string out;
  auto json_args = range;
  json_args.insert(json_args.end(), {"--format", "json"});
  ASSERT_EQ(Run(json_args, &out), 0) << out;
  auto parsed = ParseStatsRange(std::to_string(kDec2), std::to_string(kDec2 + 7'200'000), "hour", 0);
  ASSERT_TRUE(parsed.ok());
  auto stats = QueryRoomStats(pg, room->id, *parsed);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(out, RoomStatsJson(*stats) + "\n");
  rapidjson::Document doc;
  doc.Parse(out.c_str());
  ASSERT_TRUE(doc.IsObject()) << out;
  EXPECT_EQ(doc["buckets"][0]["messages"].GetInt(), 2);
  EXPECT_EQ(doc["buckets"][1]["messages"].GetInt(), 1);

  ASSERT_EQ(Run(range, &out), 0) << out;
  EXPECT_EQ(out, StatsTable(*stats));
  EXPECT_NE(out.find("2026-12-02T01:00:00Z"), std::string::npos) << out;
}

TEST_F(StatsCommandTest, RefusesBadParametersAndUnknownRooms) {
  std::string out;
  EXPECT_EQ(Run({"--room", "1", "--bucket", "week"}, &out), 1);
  EXPECT_NE(out.find("bad_bucket"), std::string::npos) << out;
  EXPECT_EQ(Run({"--room", "1", "--from", "2026-12-01T00:00:00Z", "--to", "2026-12-09T00:00:00Z", "--bucket", "minute"},
                &out),
            1);
  EXPECT_NE(out.find("too_many_buckets"), std::string::npos) << out;
  EXPECT_EQ(Run({"--room", "999"}, &out), 1);
  EXPECT_NE(out.find("999"), std::string::npos) << out;
}

}  // namespace
}  // namespace chatpipe
