// The ingress and the persister over two Redis shards: the suite's Redis and a redis-server of the
// test's own. Each room's channel and history live on the shard its tag names; chat works in rooms on
// either; the second shard killed and started again, empty, costs only its rooms a catch-up, with
// nobody rejoining, and a room left while it was away is joined again once it is back; rate-limit
// buckets on two shards are taken all or none.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "storage/redis_keys.h"
#include "storage/redis_shards.h"
#include "tests/support/child_process.h"
#include "tests/support/stack_test_base.h"

namespace chatpipe::test {
namespace {

class RedisShardsTest : public StackTest {
 protected:
  void SetUp() override {
    StackTest::SetUp();
    if (HasFatalFailure()) return;
    second_port_ = FreeLoopbackPort();
    ASSERT_TRUE(StartSecondShard());
    shards_ = stack->config().redis_addr + ",127.0.0.1:" + std::to_string(second_port_);
  }

  ::testing::AssertionResult StartSecondShard() {
    auto server = ChildProcess::Spawn({"/usr/bin/redis-server", "--port", std::to_string(second_port_), "--bind",
                                       "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"},
                                      "/dev/null");
    if (!server.ok()) return ::testing::AssertionFailure() << server.status().ToString();
    second_ = std::move(*server);
    second_client_ = std::make_unique<RedisClient>("127.0.0.1", second_port_);
    if (!WaitFor([&] { return second_client_->Connect().ok(); }))
      return ::testing::AssertionFailure() << "redis-server on " << second_port_ << " never answered";
    return ::testing::AssertionSuccess();
  }

  void StartStack(const std::function<void(IngressConfig&)>& tweak = {}) {
    ASSERT_TRUE(stack->StartIngress([&](IngressConfig& c) {
      c.common.redis_addr = shards_;
      if (tweak) tweak(c);
    }).ok());
    ASSERT_TRUE(stack->StartPersister([&](CommonConfig& c) { c.redis_addr = shards_; }).ok());
  }

  std::string prefix() const { return stack->config().RedisPrefix(); }
  static size_t ShardOf(const std::string& name) { return RedisShardOf(name, 2); }
  // A client of one shard alone, to look inside it.
  RedisClient& Shard(size_t i) { return i == 0 ? stack->redis() : *second_client_; }

  // Rooms `owner` creates until each shard holds one: [shard] = room.
  std::vector<int64_t> RoomOnEachShard(const TestUser& owner) {
    std::vector<int64_t> rooms(2, 0);
    for (int n = 0; n < 16 && (!rooms[0] || !rooms[1]); ++n) {  // each lands on a shard by a hash
      auto room = stack->CreateRoom(owner, "shard-" + std::to_string(n));
      EXPECT_TRUE(room.ok()) << room.status().ToString();
      if (!room.ok()) break;
      int64_t& slot = rooms[ShardOf(RoomChannel(prefix(), *room))];
      if (!slot) slot = *room;
    }
    EXPECT_TRUE(rooms[0] && rooms[1]) << "16 rooms, all on one shard";
    return rooms;
  }

  std::unique_ptr<WsClient> JoinAll(const TestUser& user, const std::vector<int64_t>& rooms) {
    auto ws = stack->Connect(user);
    EXPECT_TRUE(ws.ok()) << ws.status().ToString();
    if (!ws.ok()) return nullptr;
    for (int64_t room : rooms) {
      EXPECT_TRUE((*ws)->SendText("{\"type\":\"join\",\"room\":" + std::to_string(room) + "}").ok());
      EXPECT_TRUE(ReceiveUntil(**ws, [&](const Json& j) {
                    return j.Type() == "joined" && j.doc["room"].GetInt64() == room;
                  }).ok());
    }
    return std::move(*ws);
  }

  // Sends `text` (also its client_msg_id) to `room`: its answer, an ack or an error.
  Result<Json> SendForAnswer(WsClient& ws, int64_t room, const std::string& text) {
    Status sent = ws.SendText("{\"type\":\"send\",\"room\":" + std::to_string(room) + ",\"text\":\"" + text +
                              "\",\"client_msg_id\":\"" + text + "\"}");
    if (!sent.ok()) return sent;
    return ReceiveUntil(ws, [&](const Json& j) {
      return (j.Type() == "ack" || j.Type() == "error") && j.doc.HasMember("client_msg_id") &&
             j.doc["client_msg_id"].GetString() == text;
    });
  }

  // Sends `text` to `room` and checks that it is acknowledged.
  void Send(WsClient& ws, int64_t room, const std::string& text) {
    auto answer = SendForAnswer(ws, room, text);
    ASSERT_TRUE(answer.ok()) << answer.status().ToString();
    EXPECT_EQ(answer->Type(), "ack") << answer->text;
  }

  struct Seen {
    int64_t room, pos;
    std::string id, text;
  };
  // Reads `ws` until every text of `want` came in a message frame; every message frame goes to *seen.
  ::testing::AssertionResult Collect(WsClient& ws, const std::set<std::string>& want, std::vector<Seen>* seen,
                                     std::chrono::seconds timeout = std::chrono::seconds(30)) {
    auto missing = [&] {
      std::set<std::string> left = want;
      for (const Seen& s : *seen) left.erase(s.text);
      return left;
    };
    while (!missing().empty()) {
      auto frame = ReceiveType(ws, "message", timeout);
      if (!frame.ok())
        return ::testing::AssertionFailure() << missing().size() << " never came, first " << *missing().begin();
      seen->push_back({frame->doc["room"].GetInt64(), frame->doc["pos"].GetInt64(), frame->doc["id"].GetString(),
                       frame->doc["text"].GetString()});
    }
    return ::testing::AssertionSuccess();
  }

  int second_port_ = 0;
  std::string shards_;  // --redis for the stack: the suite's Redis, then the test's own
  std::unique_ptr<ChildProcess> second_;
  std::unique_ptr<RedisClient> second_client_;
};

TEST_F(RedisShardsTest, EachRoomLivesOnItsShardAndChatWorksOnBoth) {
  StartStack();
  auto ana = stack->Guest();
  ASSERT_TRUE(ana.ok()) << ana.status().ToString();
  const std::vector<int64_t> rooms = RoomOnEachShard(*ana);
  ASSERT_FALSE(HasFailure());
  auto ws = JoinAll(*ana, rooms);
  ASSERT_TRUE(ws);
  std::vector<Seen> seen;
  for (size_t shard = 0; shard < 2; ++shard) Send(*ws, rooms[shard], "hola-" + std::to_string(shard));
  ASSERT_TRUE(Collect(*ws, {"hola-0", "hola-1"}, &seen));
  for (size_t shard = 0; shard < 2; ++shard) {
    const std::string history = RoomHistoryKey(prefix(), rooms[shard]);
    const std::string channel = RoomChannel(prefix(), rooms[shard]);
    // The persister pushed the history before it published the frame that came.
    EXPECT_EQ(Shard(shard).Command({"EXISTS", history})->integer, 1) << history;
    EXPECT_EQ(Shard(1 - shard).Command({"EXISTS", history})->integer, 0) << history;
    // The ingress subscribed the room's channel on its shard only.
    auto here = Shard(shard).Command({"PUBSUB", "NUMSUB", channel});
    auto there = Shard(1 - shard).Command({"PUBSUB", "NUMSUB", channel});
    ASSERT_TRUE(here.ok() && there.ok());
    EXPECT_EQ(here->elements.at(1).integer, 1) << channel;
    EXPECT_EQ(there->elements.at(1).integer, 0) << channel;
  }
}

TEST_F(RedisShardsTest, AShardStartedAgainEmptyCostsOnlyItsRoomsACatchUp) {
  StartStack();
  auto ana = stack->Guest();
  auto bea = stack->Guest();
  ASSERT_TRUE(ana.ok() && bea.ok());
  const std::vector<int64_t> rooms = RoomOnEachShard(*ana);
  ASSERT_FALSE(HasFailure());
  const int64_t lost = rooms[1], kept = rooms[0];  // the test's own shard goes
  auto a = JoinAll(*ana, rooms);
  auto b = JoinAll(*bea, rooms);
  ASSERT_TRUE(a && b);
  std::vector<Seen> seen;
  Send(*a, lost, "before-lost");
  Send(*a, kept, "before-kept");
  ASSERT_TRUE(Collect(*b, {"before-lost", "before-kept"}, &seen));

  second_->Kill();
  // Kafka takes the sends with the shard away: they are acknowledged.
  for (int i = 0; i < 3; ++i) Send(*a, lost, "away-" + std::to_string(i));
  ASSERT_TRUE(StartSecondShard());  // same port, no data
  ASSERT_TRUE(Collect(*b, {"away-0", "away-1", "away-2"}, &seen));
  // Both rooms are live again, and nobody joined anew. a's seat in `lost` may still be catching up
  // (b's has): it takes sends meanwhile.
  Send(*a, lost, "after-lost");
  Send(*a, kept, "after-kept");
  ASSERT_TRUE(Collect(*b, {"after-lost", "after-kept"}, &seen));

  for (int64_t room : rooms) {
    std::vector<int64_t> positions;
    std::set<std::string> ids;
    for (const Seen& s : seen)
      if (s.room == room) {
        positions.push_back(s.pos);
        EXPECT_TRUE(ids.insert(s.id).second) << "room " << room << " delivered " << s.text << " twice";
      }
    EXPECT_TRUE(std::is_sorted(positions.begin(), positions.end())) << "room " << room << " out of order";
  }
  EXPECT_EQ(seen.size(), 7u);
}

// A join while the room's shard is away waits for the subscription; if its member leaves before the
// shard is back, the room must still be subscribed by the next join after it (a catch-up queued for
// the member who left once kept it from ever subscribing again, and that join was never answered).
TEST_F(RedisShardsTest, AJoinAfterTheShardIsBackIsAnsweredThoughAnEarlierOneLeftWhileItWasAway) {
  int loops = 0;
  StartStack([&](IngressConfig& c) { loops = c.threads; });
  auto ana = stack->Guest();
  ASSERT_TRUE(ana.ok()) << ana.status().ToString();
  std::vector<int64_t> on_second;  // two rooms on the test's own shard
  for (int n = 0; n < 32 && on_second.size() < 2; ++n) {
    auto room = stack->CreateRoom(*ana, "second-" + std::to_string(n));
    ASSERT_TRUE(room.ok()) << room.status().ToString();
    if (ShardOf(RoomChannel(prefix(), *room)) == 1) on_second.push_back(*room);
  }
  ASSERT_EQ(on_second.size(), 2u) << "32 rooms, not two on the second shard";
  const int64_t left_room = on_second[0], watched = on_second[1];
  // `watched` is kept: its resubscription says that the link of ana's loop to the shard is back.
  // `left_room` is joined and left once, so that the loop knows it may be joined (the access check
  // answers at once) and a join and a leave during the outage are both taken in order.
  auto a = JoinAll(*ana, {watched, left_room});
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->SendText("{\"type\":\"leave\",\"room\":" + std::to_string(left_room) + "}").ok());

  second_->Kill();
  // The ingress has seen the shard go (every link to it down, half of all) before the join comes.
  ASSERT_TRUE(WaitFor([&] {
    auto ready = stack->Call("GET", "/readyz", *ana, "");
    return ready.ok() && ready->body.find("Redis: " + std::to_string(2 * loops) + " of the loops' " +
                                          std::to_string(4 * loops) + " links are down") != std::string::npos;
  }))
      << "the ingress never saw the shard go";
  const std::string room = std::to_string(left_room);
  ASSERT_TRUE(a->SendText("{\"type\":\"join\",\"room\":" + room + "}").ok());
  ASSERT_TRUE(a->SendText("{\"type\":\"leave\",\"room\":" + room + "}").ok());
  ASSERT_TRUE(StartSecondShard());  // same port, no data
  const std::string channel = RoomChannel(prefix(), watched);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto n = Shard(1).Command({"PUBSUB", "NUMSUB", channel});
        return n.ok() && n->elements.size() == 2 && n->elements[1].integer == 1;
      },
      std::chrono::seconds(30)))
      << "the ingress never subscribed " << channel << " again";

  ASSERT_TRUE(a->SendText("{\"type\":\"join\",\"room\":" + room + "}").ok());
  EXPECT_TRUE(ReceiveUntil(*a, [&](const Json& j) {
                return j.Type() == "joined" && j.doc["room"].GetInt64() == left_room;
              }).ok());
  Send(*a, left_room, "after-rejoin");
  std::vector<Seen> seen;
  EXPECT_TRUE(Collect(*a, {"after-rejoin"}, &seen));
}

// Room creation takes a token from the creator's bucket and one from the address's. With those two on
// different shards, a creation the user's bucket refuses must not spend the address's token, which
// everyone behind that address shares.
TEST_F(RedisShardsTest, BucketsOnTwoShardsAreTakenAllOrNone) {
  StartStack([](IngressConfig& c) {
    c.limits.rooms_per_user = *ParseBucketSpec("1/1h");
    c.limits.rooms_per_address = *ParseBucketSpec("2/1h");
    c.limits.guests_per_address = BucketSpec{};
  });
  const std::string address_bucket = LimitKey(prefix(), "rooms", "addr:127.0.0.1");
  auto user_bucket = [&](const TestUser& u) { return LimitKey(prefix(), "rooms", "user:" + std::to_string(u.id)); };
  TestUser ana;
  for (int n = 0; n < 16 && (!ana.id || ShardOf(user_bucket(ana)) == ShardOf(address_bucket)); ++n) {
    auto guest = stack->Guest();  // until one's bucket is on the other shard than the address's
    ASSERT_TRUE(guest.ok()) << guest.status().ToString();
    ana = *guest;
  }
  ASSERT_NE(ShardOf(user_bucket(ana)), ShardOf(address_bucket));
  ASSERT_TRUE(stack->CreateRoom(ana, "first").ok());
  auto again = stack->Call("POST", "/api/rooms", ana, "{\"name\":\"second\"}");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 429) << again->body;
  // The address still has its second token: the refusal above spent none of it.
  auto bea = stack->Guest();
  ASSERT_TRUE(bea.ok());
  EXPECT_TRUE(stack->CreateRoom(*bea, "bea-room").ok());
  auto cid = stack->Guest();
  ASSERT_TRUE(cid.ok());
  auto third = stack->Call("POST", "/api/rooms", *cid, "{\"name\":\"cid-room\"}");
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->status, 429) << third->body << " (the address's two are spent)";
}

}  // namespace
}  // namespace chatpipe::test
