// GET /api/rooms and GET /api/rooms/{id} on a real ingress, Redis and PostgreSQL: pages by name, a
// prefix, private rooms to their members only, and the cache behind them (ingress/room_list.h): dropped
// on every change, refilled once per loop, read again by a loop only when its generation moves.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "storage/redis_keys.h"
#include "tests/support/stack_test_base.h"

namespace chatpipe::test {
namespace {

class RoomListTest : public StackTest {
 protected:
  RoomListTest() : StackTest(Start::kIngress) {}

  // The names of a page of GET /api/rooms?<query> as `user` sees it, and its "next" ("null" on the last).
  std::pair<std::vector<std::string>, std::string> Page(const TestUser& user, const std::string& query) {
    auto r = stack->Call("GET", "/api/rooms?" + query, user);
    EXPECT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
    auto body = ParseJson(r.ok() ? r->body : "");
    std::vector<std::string> names;
    if (!body.ok() || !body->doc.IsObject()) return {names, "?"};
    for (const auto& room : body->doc["rooms"].GetArray()) names.emplace_back(room["name"].GetString());
    const auto& next = body->doc["next"];
    return {names, next.IsNull() ? "null" : next.GetString()};
  }

  int StatusOf(const TestUser& user, const std::string& path) {
    auto r = stack->Call("GET", path, user);
    return r.ok() ? r->status : 0;
  }
};

using Names = std::vector<std::string>;

TEST_F(RoomListTest, PagesGoByNameInByteOrderWithAPrefixAndOnlyTheCallersPrivateRooms) {
  auto ana = stack->Register("ana"), bea = stack->Register("bea");
  ASSERT_TRUE(ana.ok() && bea.ok());
  for (const char* name : {"b-room", "c_room", "ab", "a-room"}) ASSERT_TRUE(stack->CreateRoom(*ana, name).ok());
  ASSERT_TRUE(stack->CreateRoom(*ana, "a-secret", /*is_private=*/true).ok());
  ASSERT_TRUE(stack->CreateRoom(*bea, "aa-hers", /*is_private=*/true).ok());

  // '-' sorts before letters: a-room, a-secret, ab, b-room, c_room (PostgreSQL's collation may differ).
  EXPECT_EQ(Page(*ana, "limit=2"), std::make_pair(Names{"a-room", "a-secret"}, std::string("a-secret")));
  EXPECT_EQ(Page(*ana, "limit=2&after=a-secret"), std::make_pair(Names{"ab", "b-room"}, std::string("b-room")));
  EXPECT_EQ(Page(*ana, "limit=2&after=b-room"), std::make_pair(Names{"c_room"}, std::string("null")));
  EXPECT_EQ(Page(*ana, ""), std::make_pair(Names{"a-room", "a-secret", "ab", "b-room", "c_room"}, std::string("null")));
  EXPECT_EQ(Page(*ana, "after=zzz"), std::make_pair(Names{}, std::string("null")));
  // A prefix, any case, with and without a cursor; a page that ends where the prefix does has no next.
  EXPECT_EQ(Page(*ana, "q=A"), std::make_pair(Names{"a-room", "a-secret", "ab"}, std::string("null")));
  EXPECT_EQ(Page(*ana, "q=a&limit=3"), std::make_pair(Names{"a-room", "a-secret", "ab"}, std::string("null")));
  EXPECT_EQ(Page(*ana, "q=a&limit=1&after=a-room"), std::make_pair(Names{"a-secret"}, std::string("a-secret")));
  EXPECT_EQ(Page(*ana, "q=ab"), std::make_pair(Names{"ab"}, std::string("null")));
  EXPECT_EQ(Page(*ana, "q=abc"), std::make_pair(Names{}, std::string("null")));
  // Each sees the public rooms and their own private ones.
  EXPECT_EQ(Page(*bea, "q=a"), std::make_pair(Names{"a-room", "aa-hers", "ab"}, std::string("null")));

  for (const std::string& bad : {std::string("limit=0"), std::string("limit=501"), std::string("limit=x"),
                                 "q=" + std::string(65, 'a')}) {
    auto r = stack->Call("GET", "/api/rooms?" + bad, *ana);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 400) << bad << ": " << r->body;
  }
}

TEST_F(RoomListTest, OneRoomByIdToThoseWhoMaySeeIt) {
  auto ana = stack->Register("ana"), bea = stack->Register("bea");
  ASSERT_TRUE(ana.ok() && bea.ok());
  auto open = stack->CreateRoom(*ana, "open");
  auto secret = stack->CreateRoom(*ana, "secret", /*is_private=*/true);
  ASSERT_TRUE(open.ok() && secret.ok());
  auto room = stack->Call("GET", "/api/rooms/" + std::to_string(*secret), *ana);
  ASSERT_TRUE(room.ok());
  EXPECT_EQ(room->status, 200) << room->body;
  auto body = ParseJson(room->body);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->doc["id"].GetInt64(), *secret);
  EXPECT_STREQ(body->doc["name"].GetString(), "secret");
  EXPECT_TRUE(body->doc["private"].GetBool());
  EXPECT_EQ(StatusOf(*bea, "/api/rooms/" + std::to_string(*open)), 200);
  EXPECT_EQ(StatusOf(*bea, "/api/rooms/" + std::to_string(*secret)), 403);
  EXPECT_EQ(StatusOf(*bea, "/api/rooms/" + std::to_string(*secret + 1000)), 404);
  auto anonymous = HttpRequest("GET", stack->Url("/api/rooms/" + std::to_string(*open)));
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ(anonymous->status, 401);
}

// A loop reads the whole list again only when the generation moves (or its copy is as old as the
// cache's TTL): a list changed in Redis behind its back, generation unchanged, is not read.
TEST_F(RoomListTest, ALoopReadsTheWholeListAgainOnlyWhenItsGenerationMoves) {
  stack->StopIngress();
  ASSERT_TRUE(stack->StartIngress([](IngressConfig& c) { c.threads = 1; }).ok());  // one loop, one copy
  auto ana = stack->Register("ana");
  ASSERT_TRUE(ana.ok());
  ASSERT_TRUE(stack->CreateRoom(*ana, "kept").ok());
  ASSERT_EQ(Page(*ana, "").first, Names{"kept"});
  const std::string p = stack->config().RedisPrefix();
  ASSERT_TRUE(stack->redis().Command({"SET", RoomsListKey(p), "[]", "KEEPTTL"}).ok());
  EXPECT_EQ(Page(*ana, "").first, Names{"kept"}) << "the loop's copy, its generation unchanged";
  ASSERT_TRUE(stack->redis().Command({"INCR", RoomsGenerationKey(p)}).ok());
  EXPECT_EQ(Page(*ana, "").first, Names{}) << "the generation moved: the list is read again";
}

TEST_F(RoomListTest, RoomListCacheIsInvalidatedOnCreateAndExpiresAfterItsTtl) {
  auto ana = stack->Register("ana");
  ASSERT_TRUE(ana.ok());
  ASSERT_TRUE(stack->CreateRoom(*ana, "first").ok());
  auto list = stack->Call("GET", "/api/rooms", *ana);
  ASSERT_TRUE(list.ok() && list->status == 200);
  EXPECT_NE(list->body.find("\"first\""), std::string::npos);
  const std::string key = RoomsListKey(stack->config().RedisPrefix());
  auto ttl = stack->redis().Command({"PTTL", key});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, kRoomsCacheTtlSeconds * 1000);

  // Created through the API: the cache is dropped at once.
  ASSERT_TRUE(stack->CreateRoom(*ana, "second").ok());
  list = stack->Call("GET", "/api/rooms", *ana);
  ASSERT_TRUE(list.ok());
  EXPECT_NE(list->body.find("\"second\""), std::string::npos) << list->body;

  // Created behind ingress's back (as another deployment's tool might): served stale from the cache
  // until the TTL runs out, then fresh from PostgreSQL.
  auto inserted = stack->pg().Exec("INSERT INTO rooms (name, private, created_by) VALUES ('third', false, $1)",
                                   {std::to_string(ana->id)});
  ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
  list = stack->Call("GET", "/api/rooms", *ana);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->body.find("\"third\""), std::string::npos) << "not from the cache: " << list->body;
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(WaitFor(
      [&] {
        auto l = stack->Call("GET", "/api/rooms", *ana);
        return l.ok() && l->body.find("\"third\"") != std::string::npos;
      },
      std::chrono::seconds(kRoomsCacheTtlSeconds + 5)));
  EXPECT_LE(std::chrono::steady_clock::now() - started, std::chrono::seconds(kRoomsCacheTtlSeconds + 1));
}

// A refill that read PostgreSQL before a room was created, and caches its list after the creation
// dropped the cache, would serve the list without the room for the whole TTL. The creation counts
// the list's generation up first, so the refill's cache write (the script RoomList runs, here run by
// the test with the generation a refill would have read before the creation) is refused.
TEST_F(RoomListTest, ARefillThatReadTheListBeforeAChangeDoesNotCacheIt) {
  auto ana = stack->Register("ana");
  ASSERT_TRUE(ana.ok());
  ASSERT_TRUE(stack->CreateRoom(*ana, "first").ok());
  const std::string p = stack->config().RedisPrefix();
  ASSERT_TRUE(stack->redis().Command({"DEL", RoomsListKey(p)}).ok());
  auto gen = stack->redis().Command({"GET", RoomsGenerationKey(p)});
  ASSERT_TRUE(gen.ok());
  const std::string before = gen->type == REDIS_REPLY_STRING ? gen->str : "";
  const std::string stale = "[]";  // what the refill read: no room "second"

  ASSERT_TRUE(stack->CreateRoom(*ana, "second").ok());
  auto cached = stack->redis().Command(
      {"EVAL", kRoomsListSetScript, "2", RoomsGenerationKey(p), RoomsListKey(p), before, stale, "10"});
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(cached->integer, 0);
  auto list = stack->Call("GET", "/api/rooms", *ana);
  ASSERT_TRUE(list.ok() && list->status == 200);
  EXPECT_NE(list->body.find("\"second\""), std::string::npos) << list->body;

  // With the generation of now, the same write caches.
  gen = stack->redis().Command({"GET", RoomsGenerationKey(p)});
  ASSERT_TRUE(gen.ok() && gen->type == REDIS_REPLY_STRING);
  cached = stack->redis().Command(
      {"EVAL", kRoomsListSetScript, "2", RoomsGenerationKey(p), RoomsListKey(p), gen->str, stale, "10"});
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(cached->integer, 1);
}

TEST_F(RoomListTest, AnEmptyRoomListCacheIsRefilledOncePerLoopHoweverManyWait) {
  auto ana = stack->Register("ana");
  ASSERT_TRUE(ana.ok());
  ASSERT_TRUE(stack->CreateRoom(*ana, "busy").ok());
  ASSERT_TRUE(stack->redis().Command({"DEL", RoomsListKey(stack->config().RedisPrefix())}).ok());
  Metric& refills = Counter("chatpipe_ingress_room_list_refills_total", "");
  const int64_t before = refills.value();
  constexpr int kClients = 16;
  std::vector<std::string> bodies(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([&, i] {
      auto r = stack->Call("GET", "/api/rooms", *ana);
      if (r.ok() && r->status == 200) bodies[i] = r->body;
    });
  for (auto& t : clients) t.join();
  for (const std::string& body : bodies) {
    EXPECT_NE(body.find("\"busy\""), std::string::npos) << body;
    EXPECT_EQ(body, bodies[0]);
  }
  // The stack's ingress runs two loops: at most one PostgreSQL read each.
  EXPECT_GE(refills.value() - before, 1);
  EXPECT_LE(refills.value() - before, 2);
}

}  // namespace
}  // namespace chatpipe::test
