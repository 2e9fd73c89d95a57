// Joining at scale: presence frames coalesced per room and interval, and joins that need no read
// because the loop already knows the room's head. Real services, through TestStack.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "common/metrics.h"
#include "ingress/room_hub.h"
#include "ingress/websocket.h"
#include "ingress/server.h"
#include "storage/redis_keys.h"
#include "tests/support/stack_test_base.h"

namespace chatpipe::test {
namespace {

TEST(PresenceFrameTest, EachUserCountsByNetEffect) {
  std::vector<PresenceChange> changes = {
      {1, "ana", true},  {2, "bea", true},  {2, "bea", false},  // joined and left: nothing to say
      {3, "cid", false}, {3, "cid", true},                      // left and came back: nothing either
      {4, "dan", false}, {5, "eve", true},  {5, "eve", true},   // two connections: listed once
      {6, "fay", true},  {6, "fay2", true}, {6, "fay2", false}, // the latest name
  };
  auto frame = ParseJson(PresenceFrame(9, changes));
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  EXPECT_EQ(frame->text,
            R"({"type":"presence","room":9,"joined":[{"id":1,"name":"ana"},{"id":5,"name":"eve"},)"
            R"({"id":6,"name":"fay2"}],"left":[{"id":4,"name":"dan"}]})");
  EXPECT_EQ(PresenceFrame(9, {{2, "bea", true}, {2, "bea", false}}), "");
  EXPECT_EQ(PresenceFrame(9, {}), "");
}

// What one client learns from the presence frames of one room, applied in order. Like the web
// client, it leaves its own user out.
struct PresenceView {
  explicit PresenceView(int64_t me) : me(me) {}
  int64_t me;
  std::map<int64_t, std::string> online;
  std::set<int64_t> ever;  // every other user named in some frame
  int frames = 0;

  // Applies `j` if it is a presence frame of `room`; a malformed one fails the test.
  void Apply(const Json& j, int64_t room) {
    if (j.Type() != "presence") return;
    ASSERT_EQ(j.doc["room"].GetInt64(), room) << j.text;
    ASSERT_TRUE(j.doc.HasMember("joined") && j.doc["joined"].IsArray()) << j.text;
    ASSERT_TRUE(j.doc.HasMember("left") && j.doc["left"].IsArray()) << j.text;
    ASSERT_FALSE(j.doc["joined"].Empty() && j.doc["left"].Empty()) << "an empty frame: " << j.text;
    ++frames;
    std::set<int64_t> named;
    for (const auto& u : j.doc["left"].GetArray()) {
      EXPECT_TRUE(named.insert(u["id"].GetInt64()).second) << "named twice: " << j.text;
      online.erase(u["id"].GetInt64());
    }
    for (const auto& u : j.doc["joined"].GetArray()) {
      EXPECT_TRUE(named.insert(u["id"].GetInt64()).second) << "named twice: " << j.text;
      online[u["id"].GetInt64()] = u["name"].GetString();
    }
    named.erase(me);
    online.erase(me);
    ever.insert(named.begin(), named.end());
  }
};

std::string JoinFrame(int64_t room, int64_t after = -1) {
  std::string f = "{\"type\":\"join\",\"room\":" + std::to_string(room);
  if (after >= 0) f += ",\"after\":" + std::to_string(after);
  return f + "}";
}

class JoinTest : public StackTest {
 protected:
  // Starts the stack's ingress with `threads` loops; a copy of its config goes to `config`.
  void StartIngress(int threads) {
    ASSERT_TRUE(stack->StartIngress([&](IngressConfig& c) {
      c.threads = threads;
      config = c;
    }).ok());
    ASSERT_TRUE(RegisterWithRoom("owner", "lobby", &owner_user, &room));
  }

  std::vector<TestUser> Guests(int n) {
    std::vector<TestUser> users;
    for (int i = 0; i < n; ++i) {
      auto g = stack->Guest();
      EXPECT_TRUE(g.ok()) << g.status().ToString();
      if (g.ok()) users.push_back(*g);
    }
    return users;
  }

  std::unique_ptr<WsClient> Connect(const TestUser& user, int port = 0) {
    auto ws = WsClient::Connect("127.0.0.1", port ? port : stack->port(), "/ws",
                                {"Authorization: Bearer " + user.token});
    EXPECT_TRUE(ws.ok()) << ws.status().ToString();
    return ws.ok() ? std::move(*ws) : nullptr;
  }

  // A connection of `user` joined to the room; the "joined" frame goes to *joined when given.
  std::unique_ptr<WsClient> Join(const TestUser& user, int64_t after = -1, int port = 0, Json* joined = nullptr) {
    auto ws = Connect(user, port);
    if (!ws) return nullptr;
    EXPECT_TRUE(ws->SendText(JoinFrame(room, after)).ok());
    auto j = ReceiveType(*ws, "joined");
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    if (!j.ok()) return nullptr;
    if (joined) *joined = std::move(*j);
    return ws;
  }

  // Reads `ws` until `done` holds for what its presence frames told it.
  ::testing::AssertionResult Watch(WsClient& ws, PresenceView& view, const std::function<bool()>& done) {
    if (done()) return ::testing::AssertionSuccess();
    auto r = ReceiveUntil(ws, [&](const Json& j) {
      view.Apply(j, room);
      return done();
    }, std::chrono::seconds(20));
    if (r.ok()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << r.status().ToString() << " after " << view.frames << " presence frames, "
                                         << view.online.size() << " users online";
  }

  IngressConfig config;
  TestUser owner_user;
  int64_t room = 0;
};

bool AllOnline(const PresenceView& view, const std::vector<TestUser>& users) {
  for (const TestUser& u : users)
    if (!view.online.count(u.id)) return false;
  return true;
}

bool NoneOnline(const PresenceView& view, const std::vector<TestUser>& users) {
  for (const TestUser& u : users)
    if (view.online.count(u.id)) return false;
  return true;
}

TEST_F(JoinTest, ConcurrentJoinsReachTheFirstMemberInFewFrames) {
  StartIngress(2);
  auto first = Join(owner_user);
  ASSERT_TRUE(first);
  constexpr int kJoiners = 20;
  auto users = Guests(kJoiners);
  ASSERT_EQ(users.size(), size_t{kJoiners});
  std::vector<std::unique_ptr<WsClient>> conns;
  for (const TestUser& u : users) {
    conns.push_back(Connect(u));
    ASSERT_TRUE(conns.back());
  }
  for (auto& ws : conns) ASSERT_TRUE(ws->SendText(JoinFrame(room)).ok());
  for (auto& ws : conns) ASSERT_TRUE(ReceiveType(*ws, "joined").ok());

  PresenceView view(owner_user.id);
  ASSERT_TRUE(Watch(*first, view, [&] { return AllOnline(view, users); }));
  // One frame per join before; now one per loop and interval. The joins take a few milliseconds on
  // two loops, so 2 frames is usual; half the joiners is a bound no per-join scheme could meet.
  EXPECT_LE(view.frames, kJoiners / 2);
  EXPECT_EQ(view.online.size(), size_t{kJoiners});

  // Leaving, by frame or by closing the socket, reaches it the same way.
  for (int i = 0; i < kJoiners; ++i) {
    if (i % 2) ASSERT_TRUE(conns[i]->SendText("{\"type\":\"leave\",\"room\":" + std::to_string(room) + "}").ok());
    else conns[i].reset();
  }
  int before = view.frames;
  ASSERT_TRUE(Watch(*first, view, [&] { return NoneOnline(view, users); }));
  EXPECT_LE(view.frames - before, kJoiners / 2);
}

TEST_F(JoinTest, JoinsOnTwoIngressProcessesAreSeenOnBoth) {
  StartIngress(2);
  IngressServer other(config);
  ASSERT_TRUE(other.Start().ok());
  ASSERT_NE(other.port(), stack->port());
  auto watchers = Guests(2);
  ASSERT_EQ(watchers.size(), 2u);
  auto here = Join(watchers[0]);
  auto there = Join(watchers[1], -1, other.port());
  ASSERT_TRUE(here && there);

  constexpr int kEach = 5;
  auto users = Guests(2 * kEach);
  ASSERT_EQ(users.size(), size_t{2 * kEach});
  std::vector<std::unique_ptr<WsClient>> conns;
  for (int i = 0; i < 2 * kEach; ++i) {
    conns.push_back(Connect(users[i], i < kEach ? 0 : other.port()));
    ASSERT_TRUE(conns.back());
  }
  for (auto& ws : conns) ASSERT_TRUE(ws->SendText(JoinFrame(room)).ok());

  PresenceView seen_here(watchers[0].id), seen_there(watchers[1].id);
  ASSERT_TRUE(Watch(*here, seen_here, [&] {
    return AllOnline(seen_here, users) && seen_here.online.count(watchers[1].id) > 0;
  }));
  ASSERT_TRUE(Watch(*there, seen_there, [&] { return AllOnline(seen_there, users); }));

  conns.clear();  // every joiner closes
  ASSERT_TRUE(Watch(*here, seen_here, [&] { return NoneOnline(seen_here, users); }));
  ASSERT_TRUE(Watch(*there, seen_there, [&] { return NoneOnline(seen_there, users); }));
  other.Stop();
}

// A stopping ingress tells its clients (close 1001: reconnect elsewhere), and the rooms hear of
// their leaves at once rather than never (presence keys only expire).
TEST_F(JoinTest, AStoppingIngressClosesWith1001AndItsLeavesReachTheRoom) {
  StartIngress(2);
  IngressServer other(config);
  ASSERT_TRUE(other.Start().ok());
  auto watchers = Guests(1);
  ASSERT_EQ(watchers.size(), 1u);
  auto watcher = Join(watchers[0]);
  ASSERT_TRUE(watcher);
  auto users = Guests(3);
  ASSERT_EQ(users.size(), 3u);
  std::vector<std::unique_ptr<WsClient>> conns;
  for (const TestUser& u : users) {
    conns.push_back(Join(u, -1, other.port()));
    ASSERT_TRUE(conns.back());
  }
  PresenceView view(watchers[0].id);
  ASSERT_TRUE(Watch(*watcher, view, [&] { return AllOnline(view, users); }));

  other.Stop();
  for (auto& ws : conns) {
    EXPECT_EQ(ReceiveType(*ws, "never").status().name(), "closed");
    EXPECT_EQ(ws->close_code(), ws::kCloseGoingAway);
  }
  ASSERT_TRUE(Watch(*watcher, view, [&] { return NoneOnline(view, users); }));
}

// A user with several connections in a room (tabs, devices) leaves it with the last of them: first
// with two tabs on one loop, then with one there and one on another ingress process.
TEST_F(JoinTest, AUserLeavesARoomWithTheirLastConnection) {
  StartIngress(1);  // one loop: its frames reach the watcher in the order it published them
  IngressServer other(config);
  ASSERT_TRUE(other.Start().ok());
  auto second = stack->CreateRoom(owner_user, "second"), third = stack->CreateRoom(owner_user, "third");
  ASSERT_TRUE(second.ok() && third.ok());
  auto watcher = Join(owner_user);
  ASSERT_TRUE(watcher);
  for (int64_t r : {*second, *third}) {
    ASSERT_TRUE(watcher->SendText(JoinFrame(r)).ok());
    ASSERT_TRUE(ReceiveType(*watcher, "joined").ok());
  }
  auto guests = Guests(1);
  ASSERT_EQ(guests.size(), 1u);
  const TestUser& ana = guests[0];
  auto tab1 = Join(ana), tab2 = Join(ana);
  ASSERT_TRUE(tab1 && tab2);

  // What the watcher learns of ana: online in the lobby, and whether the lobby ever said she left.
  PresenceView lobby(owner_user.id);
  bool left_lobby = false;
  auto watch_until = [&](int64_t in_room, bool joined) {
    return ReceiveUntil(*watcher, [&](const Json& j) {
      if (j.Type() != "presence") return false;
      const int64_t r = j.doc["room"].GetInt64();
      if (r == room) {
        lobby.Apply(j, room);
        for (const auto& u : j.doc["left"].GetArray()) left_lobby |= u["id"].GetInt64() == ana.id;
      }
      for (const auto& u : j.doc[joined ? "joined" : "left"].GetArray())
        if (r == in_room && u["id"].GetInt64() == ana.id) return true;
      return false;
    }, std::chrono::seconds(20));
  };
  ASSERT_TRUE(watch_until(room, true).ok());

  // A tab leaves, then joins another room on the same connection: the loop decides on the leave
  // before the join, and publishes in that order, so the other room's frame comes after any the
  // lobby got for the leave.
  const std::string leave = "{\"type\":\"leave\",\"room\":" + std::to_string(room) + "}";
  ASSERT_TRUE(tab1->SendText(leave).ok());
  ASSERT_TRUE(tab1->SendText(JoinFrame(*second)).ok());
  ASSERT_TRUE(watch_until(*second, true).ok());
  EXPECT_FALSE(left_lobby) << "ana's other tab on the same loop is still in the lobby";

  // A tab on another process joins (once its loop is counted in Redis), then the one here leaves.
  auto tab3 = Join(ana, -1, other.port());
  ASSERT_TRUE(tab3);
  const std::string loops_key = RoomUserKey(stack->config().RedisPrefix(), room, ana.id);
  ASSERT_TRUE(WaitFor([&] {
    auto n = stack->redis().Command({"ZCARD", loops_key});
    return n.ok() && n->integer == 2;
  }));
  ASSERT_TRUE(tab2->SendText(leave).ok());
  ASSERT_TRUE(tab2->SendText(JoinFrame(*third)).ok());
  ASSERT_TRUE(watch_until(*third, true).ok());
  EXPECT_FALSE(left_lobby) << "ana's tab on another process is still in the lobby";
  EXPECT_TRUE(lobby.online.count(ana.id));

  tab3.reset();  // the last one goes
  ASSERT_TRUE(watch_until(room, false).ok());
  EXPECT_FALSE(lobby.online.count(ana.id));
  other.Stop();
}

TEST_F(JoinTest, JoinAndLeaveInOneIntervalSaysNothingAndLeaveAndRejoinKeepsTheUser) {
  StartIngress(1);  // one loop: its frames reach the watcher in the order it published them
  auto watcher = Join(owner_user);
  ASSERT_TRUE(watcher);
  auto users = Guests(3);
  ASSERT_EQ(users.size(), 3u);
  const TestUser &brief = users[0], &back = users[1], &marker = users[2];

  // `back` is in the room, as the watcher learns.
  auto back_ws = Join(back);
  ASSERT_TRUE(back_ws);
  PresenceView view(owner_user.id);
  ASSERT_TRUE(Watch(*watcher, view, [&] { return view.online.count(back.id) > 0; }));

  // `brief` joins and leaves in one TCP segment: the loop handles both in one callback, so in one
  // interval. `back` leaves and joins again on its connection.
  auto brief_ws = Connect(brief);
  ASSERT_TRUE(brief_ws);
  const uint8_t key[4] = {1, 2, 3, 4};
  ASSERT_TRUE(brief_ws->SendRaw(ws::EncodeFrame(ws::Opcode::kText, JoinFrame(room), key) +
                                ws::EncodeFrame(ws::Opcode::kText, "{\"type\":\"leave\",\"room\":" +
                                                std::to_string(room) + "}", key)).ok());
  ASSERT_TRUE(back_ws->SendText("{\"type\":\"leave\",\"room\":" + std::to_string(room) + "}").ok());
  ASSERT_TRUE(back_ws->SendText(JoinFrame(room)).ok());
  ASSERT_TRUE(ReceiveType(*back_ws, "joined").ok());

  // The marker joins last, so once the watcher knows of it, it knows of everything before.
  auto marker_ws = Join(marker);
  ASSERT_TRUE(marker_ws);
  ASSERT_TRUE(Watch(*watcher, view, [&] { return view.online.count(marker.id) > 0; }));
  EXPECT_FALSE(view.ever.count(brief.id)) << "brief was never worth a line";
  EXPECT_TRUE(view.online.count(back.id)) << "back is still in the room";
}

int64_t MetricValue(const std::string& metrics, const std::string& name) {
  size_t at = metrics.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(metrics.substr(at + name.size() + 2));
}

TEST_F(JoinTest, AJoinIntoARoomWhoseHeadTheLoopKnowsReadsNothing) {
  StartIngress(1);  // one loop, so every join lands where the head is known
  ASSERT_TRUE(stack->StartPersister().ok());
  auto fetches = [&](const std::string& source) {
    auto r = stack->Call("GET", "/metrics", owner_user);
    EXPECT_TRUE(r.ok() && r->status == 200);
    return r.ok() ? MetricValue(r->body, "chatpipe_ingress_join_fetches_" + source + "_total") : -1;
  };
  // The first join reads the head (PostgreSQL: the history list is empty) and learns it; the next
  // one, still into an empty room, reads nothing.
  auto ana = Join(owner_user);
  ASSERT_TRUE(ana);
  auto users = Guests(5);
  ASSERT_EQ(users.size(), 5u);
  int64_t pg = fetches("pg"), none = fetches("none");
  ASSERT_GE(pg, 1);
  Json joined;
  auto early = Join(users[3], -1, 0, &joined);
  ASSERT_TRUE(early);
  EXPECT_EQ(joined.doc["pos"].GetInt64(), 0);
  EXPECT_EQ(fetches("pg"), pg);
  EXPECT_EQ(fetches("none"), none + 1);

  for (int i = 1; i <= 3; ++i)
    ASSERT_TRUE(ana->SendText("{\"type\":\"send\",\"room\":" + std::to_string(room) + ",\"text\":\"m" +
                              std::to_string(i) + "\"}").ok());
  for (WsClient* ws : {ana.get(), early.get()})
    for (int i = 1; i <= 3; ++i) {
      auto m = ReceiveType(*ws, "message");
      ASSERT_TRUE(m.ok()) << m.status().ToString();
      ASSERT_EQ(m->doc["pos"].GetInt64(), i);
    }
  pg = fetches("pg"), none = fetches("none");
  int64_t redis = fetches("redis");
  ASSERT_GE(redis, 0);

  auto fresh = Join(users[0], -1, 0, &joined);  // no "after": from the head on
  ASSERT_TRUE(fresh);
  EXPECT_EQ(joined.doc["pos"].GetInt64(), 3);
  auto current = Join(users[1], 3, 0, &joined);  // has everything already
  ASSERT_TRUE(current);
  EXPECT_EQ(joined.doc["pos"].GetInt64(), 3);
  EXPECT_EQ(fetches("none"), none + 2);
  EXPECT_EQ(fetches("pg"), pg);
  EXPECT_EQ(fetches("redis"), redis);

  // Behind the head: a read, from the history list, then the replay.
  auto behind = Join(users[2], 1, 0, &joined);
  ASSERT_TRUE(behind);
  EXPECT_EQ(joined.doc["pos"].GetInt64(), 3);
  for (int want = 2; want <= 3; ++want) {
    auto m = ReceiveType(*behind, "message");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->doc["pos"].GetInt64(), want);
  }
  // "after": 0 is from the start.
  auto zero = Join(users[4], 0, 0, &joined);
  ASSERT_TRUE(zero);
  for (int want = 1; want <= 3; ++want) {
    auto m = ReceiveType(*zero, "message");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->doc["pos"].GetInt64(), want);
  }
  EXPECT_EQ(fetches("redis"), redis + 2);
  EXPECT_EQ(fetches("pg"), pg);

  // The live stream continues right after the known head: no gap, no repeat.
  ASSERT_TRUE(ana->SendText("{\"type\":\"send\",\"room\":" + std::to_string(room) + ",\"text\":\"m4\"}").ok());
  for (WsClient* ws : {early.get(), fresh.get(), current.get(), behind.get(), zero.get()}) {
    auto m = ReceiveType(*ws, "message");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->doc["pos"].GetInt64(), 4);
    EXPECT_STREQ(m->doc["text"].GetString(), "m4");
  }
}

// Joins of ids above every room wait for one query of the highest room id per loop, not one query
// each: a flood of made-up ids costs the database a query at a time. A room made since is above what
// the loop knew, and its join still finds it.
TEST_F(JoinTest, JoinsOfIdsAboveEveryRoomShareOneQuery) {
  StartIngress(1);
  Metric& ceiling_queries = Counter("chatpipe_ingress_room_ceiling_queries_total", "");
  auto ws = Connect(owner_user);
  ASSERT_TRUE(ws);
  const int64_t queries_before = ceiling_queries.value();
  constexpr int kJoins = 50;
  std::string burst;  // one segment: the loop reads every join before the first query answers
  const uint8_t key[4] = {1, 2, 3, 4};
  for (int i = 0; i < kJoins; ++i) burst += ws::EncodeFrame(ws::Opcode::kText, JoinFrame(room + 1000 + i), key);
  ASSERT_TRUE(ws->SendRaw(burst).ok());
  for (int i = 0; i < kJoins; ++i) {
    auto e = ReceiveType(*ws, "error");
    ASSERT_TRUE(e.ok()) << e.status().ToString() << " after " << i << " errors";
    EXPECT_STREQ(e->doc["code"].GetString(), "unknown_room") << e->text;
  }
  const int64_t queries = ceiling_queries.value() - queries_before;
  EXPECT_GE(queries, 1);
  EXPECT_LE(queries, 2) << "the first join's query, then one for all that came while it was out";

  auto fresh = stack->CreateRoom(owner_user, "fresh");
  ASSERT_TRUE(fresh.ok());
  ASSERT_GT(*fresh, room);
  ASSERT_TRUE(ws->SendText(JoinFrame(*fresh)).ok());
  auto joined = ReceiveType(*ws, "joined");
  ASSERT_TRUE(joined.ok()) << joined.status().ToString();
  EXPECT_EQ(joined->doc["room"].GetInt64(), *fresh);
}

// A client joining several rooms with "after" gets their replays one at a time: the next is read
// only once the previous one's output has drained, so each may exceed --max-output (the allowance
// of the one replay under way) and none drops the reader.
TEST_F(JoinTest, ReplaysOfOneConnectionGoOneAtATime) {
  // Each replay is more than the kernel holds for a client that does not read (the server's send
  // buffer at its largest, plus 2 MiB), so the first one stays in the ingress until the client reads.
  size_t wmem[3] = {0, 0, 4 << 20};
  std::ifstream("/proc/sys/net/ipv4/tcp_wmem") >> wmem[0] >> wmem[1] >> wmem[2];
  const int messages = static_cast<int>((wmem[2] + (2 << 20)) / 4000) + 1;
  ASSERT_TRUE(stack->StartIngress([messages](IngressConfig& c) {
    c.threads = 1;
    c.max_output_bytes = 16 << 10;
    c.replay_limit = messages;
  }).ok());
  ASSERT_TRUE(RegisterWithRoom("owner", "lobby", &owner_user, &room));
  auto second = stack->CreateRoom(owner_user, "second");
  ASSERT_TRUE(second.ok());
  // Stored directly, 4 KB each.
  const int64_t kMessages = messages;
  for (int64_t r : {room, *second})
    ASSERT_TRUE(stack->pg()
                    .Exec("INSERT INTO messages (id, room_id, pos, user_id, user_name, body, ts) "
                          "SELECT $1::bigint * 100000 + g, $1::bigint, g, $2::bigint, 'owner', "
                          "'m' || g || ' ' || repeat('x', 4000), 0 FROM generate_series(1, $3::int) g",
                          {std::to_string(r), std::to_string(owner_user.id), std::to_string(kMessages)})
                    .ok());
  auto waited = [&] {
    auto r = stack->Call("GET", "/metrics", owner_user);
    return r.ok() ? MetricValue(r->body, "chatpipe_ingress_join_replays_waited_total") : -1;
  };
  const int64_t waited_before = std::max<int64_t>(waited(), 0);

  auto ws = Connect(owner_user);
  ASSERT_TRUE(ws);
  const uint8_t key[4] = {1, 2, 3, 4};
  ASSERT_TRUE(ws->SendRaw(ws::EncodeFrame(ws::Opcode::kText, JoinFrame(room, 0), key) +
                          ws::EncodeFrame(ws::Opcode::kText, JoinFrame(*second, 0), key)).ok());
  // The client reads nothing yet: the second room's replay waits for the first's to drain.
  ASSERT_TRUE(WaitFor([&] { return waited() == waited_before + 1; }));

  // Then everything arrives, room after room, each replay whole and in order.
  Status whole = ReceiveRoomsWhole(*ws, {{room, kMessages}, {*second, kMessages}});
  ASSERT_TRUE(whole.ok()) << whole.ToString();
  EXPECT_EQ(waited(), waited_before + 1);
}

}  // namespace
}  // namespace chatpipe::test
