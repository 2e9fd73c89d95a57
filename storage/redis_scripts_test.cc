// The Lua side of the frame layout, on the suite's real Redis (ops/test exports CHATPIPE_REDIS): the
// scripts that meet frames in Redis read what EncodeMessageFrame writes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <tuple>
#include <vector>

#include "common/events.h"
#include "storage/redis_client.h"
#include "storage/redis_keys.h"

namespace chatpipe {
namespace {

class RedisScriptsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* address = std::getenv("CHATPIPE_REDIS");
    ASSERT_NE(address, nullptr) << "CHATPIPE_REDIS is not set: run the tests with ops/test";
    std::string a = address;
    redis_ = std::make_unique<RedisClient>(a.substr(0, a.rfind(':')), std::stoi(a.substr(a.rfind(':') + 1)));
    ASSERT_TRUE(redis_->Connect().ok());
  }
  RedisReply Run(std::vector<std::string> args) {
    auto r = redis_->Command(std::move(args));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_NE(r->type, REDIS_REPLY_ERROR) << r->str;
    return r.ok() ? *r : RedisReply{};
  }
  std::string prefix_ = "redis_scripts_test:" + std::to_string(getpid()) + ":";
  std::unique_ptr<RedisClient> redis_;
};

StoredMessage Message(int64_t room, int64_t pos, uint64_t id) {
  StoredMessage m;
  m.event.id = id;
  m.event.room = room;
  m.event.user = {7, "a\",\"pos\":1,\"id\":\"2\""};
  m.event.text = ",\"pos\":5,\"id\":\"6\"";
  m.event.ts_ms = 1750000000123;
  m.pos = pos;
  return m;
}

TEST_F(RedisScriptsTest, TheLuaPatternReadsWhatTheEncoderWrites) {
  const std::string script =
      "local pos, id = string.match(ARGV[1], '" + FrameHeadLuaPattern() + "') return {pos or false, id or false}";
  const StoredMessage largest = Message(9223372036854775807, 9007199254740993, 18446744073709551615ULL);
  for (const StoredMessage& m : {Message(42, 1, 5), largest}) {
    std::string frame = EncodeMessageFrame(m);
    RedisReply r = Run({"EVAL", script, "0", frame});
    ASSERT_EQ(r.elements.size(), 2u) << frame;
    EXPECT_EQ(r.elements[0].str, std::to_string(m.pos)) << frame;
    EXPECT_EQ(r.elements[1].str, std::to_string(m.event.id)) << frame;
    EXPECT_EQ(FramePosition(frame), m.pos);
  }
  RedisReply other = Run({"EVAL", script, "0", R"({"type":"joined","room":1,"pos":3})"});
  ASSERT_EQ(other.elements.size(), 2u);
  EXPECT_EQ(other.elements[0].type, REDIS_REPLY_NIL) << "only message frames have a head";
}

TEST_F(RedisScriptsTest, HistoryPushSkipsWhatTheListsHeadAlreadyHas) {
  const std::string key = RoomHistoryKey(prefix_, 1);
  Run({"DEL", key});
  auto push = [&](std::vector<int64_t> positions) {
    std::vector<std::string> args{"EVAL", HistoryPushScript(), "1", key, std::to_string(kHistoryCap)};
    for (int64_t pos : positions) {
      args.push_back(std::to_string(pos));
      args.push_back(EncodeMessageFrame(Message(1, pos, 100 + pos)));
    }
    return Run(args).integer;
  };
  EXPECT_EQ(push({1, 2, 3}), 3);
  EXPECT_EQ(push({2, 3}), 0) << "a replayed batch: the head's position (3) must be read from its frame";
  EXPECT_EQ(push({3, 4}), 1);
  RedisReply list = Run({"LRANGE", key, "0", "-1"});
  ASSERT_EQ(list.elements.size(), 4u);
  EXPECT_EQ(FramePosition(list.elements[0].str), 4);
  EXPECT_EQ(FramePosition(list.elements[3].str), 1);
  Run({"DEL", key});
}

// The shared rate limits' buckets, with the time passed in: 3 per 300 ms is one token every 100 ms.
TEST_F(RedisScriptsTest, TokenBucketsTakeFromAllOrNone) {
  const std::string user = LimitKey(prefix_, "sends", "user:1"), addr = LimitKey(prefix_, "sends", "addr:1");
  Run({"DEL", user, addr});
  auto take = [&](std::vector<std::string> keys, int64_t now, int cost = 1) {
    std::vector<std::string> args{"EVAL", kTokenBucketScript, std::to_string(keys.size())};
    args.insert(args.end(), keys.begin(), keys.end());
    args.push_back(std::to_string(now));
    args.push_back(std::to_string(cost));
    for (const std::string& key : keys) {
      args.push_back(key == user ? "3" : "5");    // burst
      args.push_back(key == user ? "300" : "500");  // period in ms: both one token per 100 ms
    }
    return Run(args).integer;
  };
  const int64_t t = 1750000000000;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(take({user, addr}, t), 0) << "take " << i;
  EXPECT_EQ(take({user, addr}, t), 100) << "the user's bucket is empty";
  EXPECT_EQ(take({addr}, t), 0) << "a refusal took nothing from the address's bucket: it has 2 left";
  EXPECT_EQ(take({addr}, t), 0);
  EXPECT_EQ(take({addr}, t), 100);
  EXPECT_EQ(take({user, addr}, t + 30), 70);
  EXPECT_EQ(take({user}, t + 100, 0), 0) << "looking at a bucket with a token takes nothing";
  EXPECT_EQ(take({user}, t + 100), 0);
  EXPECT_EQ(take({user}, t + 100, 0), 100);
  EXPECT_EQ(take({user}, t + 50), 100) << "a clock behind the last take refills nothing";
  // The key lives as long as the bucket takes to fill, and a missing bucket is a full one.
  RedisReply ttl = Run({"PTTL", user});
  EXPECT_GT(ttl.integer, 0);
  EXPECT_LE(ttl.integer, 300);
  Run({"DEL", user, addr});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(take({user}, t + 200), 0);
  EXPECT_GT(take({user}, t + 200), 0);
  Run({"DEL", user, addr});
}

// The sends-per-user buckets: what a loop took on its credit is taken whatever is left (the bucket
// owes it), what it asks for is granted while whole tokens last, and each key is answered apart.
TEST_F(RedisScriptsTest, SendAllowancesTakeWhatWasAdmittedAndGrantWhatIsThere) {
  const std::string ana = LimitKey(prefix_, "sends", "user:1"), bob = LimitKey(prefix_, "sends", "user:2");
  Run({"DEL", ana, bob});
  struct Answer {
    int64_t granted, left, wait;
  };
  // Each user: {key, taken, wanted}; 4 per 400 ms, one token every 100 ms.
  auto call = [&](std::vector<std::tuple<std::string, int, int>> users, int64_t now) {
    std::vector<std::string> args{"EVAL", kSendAllowanceScript, std::to_string(users.size())};
    for (const auto& u : users) args.push_back(std::get<0>(u));
    args.push_back(std::to_string(now));
    for (const auto& u : users)
      args.insert(args.end(), {std::to_string(std::get<1>(u)), std::to_string(std::get<2>(u)), "4", "400"});
    RedisReply r = Run(args);
    std::vector<Answer> out;
    for (size_t i = 0; i + 2 < r.elements.size(); i += 3)
      out.push_back({r.elements[i].integer, r.elements[i + 1].integer, r.elements[i + 2].integer});
    EXPECT_EQ(out.size(), users.size());
    return out;
  };
  const int64_t t = 1750000000000;
  auto a = call({{ana, 0, 3}, {bob, 0, 6}}, t);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].granted, 3);
  EXPECT_EQ(a[0].left, 1);
  EXPECT_EQ(a[0].wait, 0);
  EXPECT_EQ(a[1].granted, 4) << "no more than the bucket holds";
  EXPECT_EQ(a[1].left, 0);
  EXPECT_EQ(a[1].wait, 100);
  a = call({{ana, 3, 1}}, t);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].granted, 0) << "three admitted on credit, one token left: the bucket owes two";
  EXPECT_EQ(a[0].left, 0);
  EXPECT_EQ(a[0].wait, 300) << "the debt and then one token, at one token per 100 ms";
  EXPECT_GT(Run({"PTTL", ana}).integer, 400) << "kept until it would be full: a debt is not forgotten";
  a = call({{ana, 0, 1}}, t + 310);
  EXPECT_EQ(a[0].granted, 1);
  a = call({{bob, 0, 0}}, t + 100);
  EXPECT_EQ(a[0].left, 1) << "asking for nothing only looks";
  EXPECT_EQ(a[0].wait, 0);
  Run({"DEL", ana, bob});
}

}  // namespace
}  // namespace chatpipe
