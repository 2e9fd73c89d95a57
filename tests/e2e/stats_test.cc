// A room's statistics through the whole stack: messages posted to ingress go through Kafka to the
// persister, the tag worker and the mention worker (child processes), and GET /api/rooms/{id}/stats
// must show what this test computes on its own from what it sent (the stamps ingress answered with,
// and its own run of the tagger over the texts). Then who may read them, and bad parameters.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "analysis/tagger.h"
#include "tests/support/stack_test_base.h"
#include "tests/support/wait.h"

namespace chatpipe::test {
namespace {

class RoomStatsApiTest : public StackTest {
 protected:
  RoomStatsApiTest() : StackTest(Start::kIngressAndPersister) {}

  void SetUp() override {
    StackTest::SetUp();
    if (HasFatalFailure()) return;
    auto a = stack->Register("ana"), b = stack->Register("bea"), c = stack->Register("cy");
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    ana = *a;
    bea = *b;
    cy = *c;
  }

  // GET `path` as `user`: the status and, for a 2xx or 4xx with a body, the parsed JSON.
  struct Answer {
    long status = 0;
    Json json;
  };
  Answer Get(const std::string& path, const TestUser& user) {
    Answer a;
    auto r = stack->Call("GET", path, user);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return a;
    a.status = r->status;
    a.json.text = r->body;
    if (auto json = ParseJson(r->body); json.ok()) a.json = std::move(*json);
    return a;
  }

  TestUser ana, bea, cy;
};

struct Sent {
  int64_t ts;
  int64_t user;
  Tags tags;
};

TEST_F(RoomStatsApiTest, FiguresMatchWhatWasSentThroughThePipeline) {
  ASSERT_TRUE(stack->StartWorkerProcess("tag").ok());
  ASSERT_TRUE(stack->StartWorkerProcess("mention").ok());
  auto room = stack->CreateRoom(ana, "numbers");
  ASSERT_TRUE(room.ok());
  auto tagger = Tagger::Load(DefaultTagDataDir());
  ASSERT_TRUE(tagger.ok()) << tagger.status().ToString();

  const std::vector<std::pair<const TestUser*, std::string>> posts = {
      {&ana, "I love this, what a wonderful day!"},
      {&bea, "this is shit"},
      {&ana, "@bea great work, thank you"},
      {&cy, "@bea this bug is terrible and I hate it"},
      {&bea, "@cy ok"},
      {&ana, "hola, qué tal"},
      {&cy, "que mierda de día"},
      {&ana, "@bea @cy see you tomorrow, have a nice evening"},
  };
  std::vector<Sent> sent;
  for (const auto& [user, text] : posts) {
    auto r = stack->Call("POST", "/api/rooms/" + std::to_string(*room) + "/messages", *user,
                         "{\"text\":\"" + text + "\"}");
    ASSERT_TRUE(r.ok() && r->status == 202) << (r.ok() ? r->body : r.status().ToString());
    auto body = ParseJson(r->body);
    ASSERT_TRUE(body.ok());
    sent.push_back({body->doc["ts"].GetInt64(), user->id, (*tagger)->Analyze(text)});
  }

  const int64_t from = sent.front().ts - 120'000, to = sent.back().ts + 60'000;
  const std::string path = "/api/rooms/" + std::to_string(*room) + "/stats?bucket=minute&from=" +
                           std::to_string(from) + "&to=" + std::to_string(to);
  Json stats;
  // The workers are asynchronous: wait until everything is stored, tagged and its mentions found.
  ASSERT_TRUE(WaitFor([&] {
    auto [status, json] = Get(path, ana);
    if (status != 200 || !json.doc.IsObject()) return false;
    const auto& totals = json.doc["totals"];
    bool done = totals["messages"].GetInt64() == static_cast<int64_t>(posts.size()) &&
                totals["tagged"].GetInt64() == static_cast<int64_t>(posts.size()) &&
                json.doc["top_mentioned"].Size() == 2 &&
                json.doc["top_mentioned"][0]["mentions"].GetInt64() + json.doc["top_mentioned"][1]["mentions"].GetInt64() == 5;
    if (done) stats = std::move(json);
    return done;
  }, std::chrono::seconds(20))) << Get(path, ana).json.text;

  // Per minute, from what was sent.
  struct Want {
    int64_t messages = 0, tagged = 0, negative = 0, profane = 0;
    double sentiment = 0;
    std::set<int64_t> users;
  };
  std::map<int64_t, Want> want;
  for (const Sent& s : sent) {
    Want& w = want[s.ts - s.ts % 60'000];
    ++w.messages;
    ++w.tagged;
    w.users.insert(s.user);
    w.sentiment += s.tags.sentiment_score;
    w.negative += s.tags.sentiment_label == "negative";
    w.profane += s.tags.profane;
  }
  const auto& buckets = stats.doc["buckets"];
  ASSERT_EQ(buckets.Size(), static_cast<rapidjson::SizeType>((to + 59'999) / 60'000 - from / 60'000));
  int64_t seen = 0;
  for (const auto& b : buckets.GetArray()) {
    auto it = want.find(b["start"].GetInt64());
    if (it == want.end()) {
      EXPECT_EQ(b["messages"].GetInt64(), 0);
      EXPECT_TRUE(b["mean_sentiment"].IsNull());
      continue;
    }
    const Want& w = it->second;
    seen += w.messages;
    EXPECT_EQ(b["messages"].GetInt64(), w.messages);
    EXPECT_EQ(b["active_users"].GetInt64(), static_cast<int64_t>(w.users.size()));
    EXPECT_EQ(b["tagged"].GetInt64(), w.tagged);
    EXPECT_NEAR(b["mean_sentiment"].GetDouble(), w.sentiment / w.tagged, 1e-4);
    EXPECT_NEAR(b["negative_share"].GetDouble(), static_cast<double>(w.negative) / w.tagged, 1e-4);
    EXPECT_NEAR(b["profanity_rate"].GetDouble(), static_cast<double>(w.profane) / w.tagged, 1e-4);
  }
  EXPECT_EQ(seen, static_cast<int64_t>(posts.size()));
  EXPECT_FALSE(stats.doc["totals"].HasMember("active_users"));
  // @bea three times, @cy twice.
  const auto& top = stats.doc["top_mentioned"];
  EXPECT_STREQ(top[0]["user"]["name"].GetString(), "bea");
  EXPECT_EQ(top[0]["mentions"].GetInt64(), 3);
  EXPECT_STREQ(top[1]["user"]["name"].GetString(), "cy");
  EXPECT_EQ(top[1]["mentions"].GetInt64(), 2);
}

TEST_F(RoomStatsApiTest, OnlyMembersReadAPrivateRoomsStats) {
  auto secret = stack->CreateRoom(ana, "secret", true);
  ASSERT_TRUE(secret.ok());
  const std::string path = "/api/rooms/" + std::to_string(*secret) + "/stats";
  EXPECT_EQ(Get(path, ana).status, 200);
  auto [status, body] = Get(path, bea);
  EXPECT_EQ(status, 403) << body.text;
  EXPECT_EQ(Get("/api/rooms/987654/stats", ana).status, 404);
  auto anonymous = stack->Call("GET", path, TestUser{});
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ(anonymous->status, 401);
}

TEST_F(RoomStatsApiTest, BadParametersAreRefusedWithTheirCodes) {
  auto room = stack->CreateRoom(ana, "params");
  ASSERT_TRUE(room.ok());
  const std::string base = "/api/rooms/" + std::to_string(*room) + "/stats";
  for (const auto& [query, code] : std::vector<std::pair<std::string, std::string>>{
           {"?bucket=week", "bad_bucket"},
           {"?from=yesterday", "bad_from"},
           {"?to=-1", "bad_to"},
           {"?from=2000&to=1000", "bad_range"},
           {"?from=0&to=86400000000&bucket=minute", "too_many_buckets"},
       }) {
    auto [status, body] = Get(base + query, ana);
    EXPECT_EQ(status, 400) << query << ": " << body.text;
    ASSERT_TRUE(body.doc.IsObject()) << query;
    EXPECT_STREQ(body.doc["error"]["code"].GetString(), code.c_str()) << query;
  }
  auto post = stack->Call("POST", base, ana, "{}");
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 405);
}

}  // namespace
}  // namespace chatpipe::test
