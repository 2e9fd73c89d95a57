// Rate limits on a real stack, each set small by the test's own config (the flags' fields) so that a
// few requests reach them: a refusal is `rate_limited` with when to try again, the connection stays
// open, and the bucket refills.
#include <gtest/gtest.h>

#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/stack_test_base.h"

namespace chatpipe::test {
namespace {

BucketSpec Limit(const char* text) { return ParseBucketSpec(text).value_or(BucketSpec{}); }

// Everything off but what a test sets: each test looks at one limit.
void NoLimits(IngressConfig& c) {
  RateLimitConfig& l = c.limits;
  for (BucketSpec* spec : {&l.sends_per_connection, &l.sends_per_user, &l.joins_per_connection, &l.rooms_per_user,
                           &l.rooms_per_address, &l.members_per_user, &l.guests_per_address, &l.signups_per_address, &l.signins_per_address,
                           &l.object_reads_per_address, &l.db_reads_per_user, &l.db_reads_per_address,
                           &l.login_failures_per_account, &l.login_failures_per_address})
    *spec = BucketSpec{};
  l.sends_in_flight = 0;
}

class RateLimitTest : public StackTest {
 protected:
  void Start(const std::function<void(RateLimitConfig&)>& limits) {
    ASSERT_TRUE(stack->StartIngress([&](IngressConfig& c) {
      NoLimits(c);
      limits(c.limits);
    }).ok());
    ASSERT_TRUE(stack->StartPersister().ok());
    ASSERT_TRUE(RegisterWithRoom("ana", "general", &ana, &room));
  }

  std::unique_ptr<WsClient> Join(const TestUser& user) {
    auto ws = stack->Connect(user);
    EXPECT_TRUE(ws.ok()) << ws.status().ToString();
    if (!ws.ok()) return nullptr;
    EXPECT_TRUE((*ws)->SendText(JoinFrame()).ok());
    EXPECT_TRUE(ReceiveType(**ws, "joined").ok());
    return std::move(*ws);
  }
  std::string JoinFrame() const { return "{\"type\":\"join\",\"room\":" + std::to_string(room) + "}"; }
  std::string SendFrame(const std::string& cmid) const {
    return "{\"type\":\"send\",\"room\":" + std::to_string(room) + ",\"text\":\"hi " + cmid +
           "\",\"client_msg_id\":\"" + cmid + "\"}";
  }

  // The answers (ack or error frames) to `n` sends, in the order they came.
  std::vector<Json> Answers(WsClient& ws, size_t n) {
    std::vector<Json> answers;
    while (answers.size() < n) {
      auto f = ReceiveUntil(ws, [](const Json& j) { return j.Type() == "ack" || j.Type() == "error"; });
      EXPECT_TRUE(f.ok()) << f.status().ToString() << " after " << answers.size() << " answers";
      if (!f.ok()) break;
      answers.push_back(std::move(*f));
    }
    return answers;
  }

  static bool RateLimited(const Json& j) {
    return j.Type() == "error" && std::string(j.doc["code"].GetString()) == "rate_limited";
  }

  // Acks and rate_limited refusals among answers to sends; anything else fails the test. Each
  // refusal must say when to try again (at most `max_wait_ms`) and name its send.
  struct Tally {
    int acks = 0, refused = 0;
  };
  static Tally Count(const std::vector<Json>& answers, int64_t max_wait_ms) {
    Tally t;
    for (const Json& a : answers) {
      if (a.Type() == "ack") {
        ++t.acks;
        continue;
      }
      EXPECT_TRUE(RateLimited(a)) << a.text;
      if (!RateLimited(a)) continue;
      ++t.refused;
      EXPECT_TRUE(a.doc.HasMember("retry_after_ms") && a.doc.HasMember("client_msg_id")) << a.text;
      if (!a.doc.HasMember("retry_after_ms")) continue;
      EXPECT_GT(a.doc["retry_after_ms"].GetInt64(), 0) << a.text;
      EXPECT_LE(a.doc["retry_after_ms"].GetInt64(), max_wait_ms) << a.text;
    }
    return t;
  }

  // `n` sends back to back, and their answers counted; refusals wait at most 100 ms.
  Tally Burst(WsClient& ws, int n) {
    for (int i = 0; i < n; ++i) EXPECT_TRUE(ws.SendText(SendFrame("b" + std::to_string(i))).ok());
    std::vector<Json> answers = Answers(ws, n);
    EXPECT_EQ(answers.size(), size_t(n));
    return Count(answers, 100);
  }

  // Sends one more message until it is acknowledged: the bucket has refilled.
  bool SendsAgain(WsClient& ws, const std::string& cmid) {
    return WaitFor(
        [&](std::chrono::milliseconds left) {
          if (!ws.SendText(SendFrame(cmid)).ok()) return false;
          auto f = ReceiveUntil(ws, [](const Json& j) { return j.Type() == "ack" || j.Type() == "error"; }, left);
          return f.ok() && f->Type() == "ack";
        },
        std::chrono::seconds(10));
  }

  Result<HttpResponse> SignIn(const std::string& name, const std::string& password) {
    return stack->Call("POST", "/api/sessions", TestUser{},
                       "{\"name\":\"" + name + "\",\"password\":\"" + password + "\"}");
  }

  TestUser ana;
  int64_t room = 0;
};

TEST_F(RateLimitTest, AWebSocketBurstIsRefusedPastItsBucketStaysOpenAndSendsAgainOnceRefilled) {
  Start([](RateLimitConfig& l) { l.sends_per_connection = Limit("3/300ms"); });  // then one per 100 ms
  auto ws = Join(ana);
  ASSERT_TRUE(ws);
  constexpr int kBurst = 12;
  auto [acks, refused] = Burst(*ws, kBurst);
  EXPECT_GE(acks, 3);
  EXPECT_LE(acks, 5) << "12 sends in a burst, one token per 100 ms after the first 3";
  EXPECT_EQ(acks + refused, kBurst);
  // Still open, and the bucket refills.
  EXPECT_TRUE(SendsAgain(*ws, "later"));
  ASSERT_TRUE(WaitFor([&] { return stack->CountMessages(room).value_or(0) == acks + 1; }))
      << "exactly the acknowledged sends are stored";
}

TEST_F(RateLimitTest, SendsAwaitingTheirAckAreBoundedPerConnection) {
  Start([](RateLimitConfig& l) { l.sends_in_flight = 4; });
  auto ws = Join(ana);
  ASSERT_TRUE(ws);
  // Sent back to back: the burst is in before Kafka (linger 5 ms) can acknowledge any of it.
  constexpr int kBurst = 40;
  auto [acks, refused] = Burst(*ws, kBurst);
  EXPECT_GE(acks, 4);
  EXPECT_GT(refused, 0) << "40 sends at once, at most 4 in flight";
  EXPECT_EQ(acks + refused, kBurst);
  EXPECT_TRUE(SendsAgain(*ws, "after")) << "once acknowledged, sends are in flight no more";
}

TEST_F(RateLimitTest, AUsersSendsAreLimitedOverAllTheirConnections) {
  Start([](RateLimitConfig& l) { l.sends_per_user = Limit("4/1h"); });
  auto first = Join(ana), second = Join(ana);
  ASSERT_TRUE(first && second);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(first->SendText(SendFrame("a" + std::to_string(i))).ok());
  std::vector<Json> one = Answers(*first, 3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(second->SendText(SendFrame("b" + std::to_string(i))).ok());
  std::vector<Json> two = Answers(*second, 3);
  one.insert(one.end(), std::make_move_iterator(two.begin()), std::make_move_iterator(two.end()));
  auto [acks, refused] = Count(one, 15 * 60 * 1000);  // one token every 15 minutes
  EXPECT_EQ(acks, 4);
  EXPECT_EQ(refused, 2);
  // The same bucket over HTTP: 429 with Retry-After.
  auto r = stack->Call("POST", "/api/rooms/" + std::to_string(room) + "/messages", ana, "{\"text\":\"by http\"}");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 429) << r->body;
  EXPECT_NE(r->body.find("\"rate_limited\""), std::string::npos) << r->body;
  ASSERT_TRUE(r->headers.count("retry-after"));
  EXPECT_GT(std::stoi(r->headers["retry-after"]), 60);
  EXPECT_LE(std::stoi(r->headers["retry-after"]), 900);
}

// The user's bucket is settled with Redis once per loop iteration, and an answer leaves the loop a
// credit: a burst, and the sends after it, do not each wait for a script call.
TEST_F(RateLimitTest, AUsersSendsDoNotEachAskRedis) {
  Start([](RateLimitConfig& l) { l.sends_per_user = Limit("1000/1s"); });
  auto ws = Join(ana);
  ASSERT_TRUE(ws);
  Metric& calls = Counter("chatpipe_ingress_send_allowance_calls_total", "");
  const int64_t before = calls.value();
  constexpr int kBurst = 20;
  for (int round = 0; round < 2; ++round) {
    auto [acks, refused] = Burst(*ws, kBurst);
    EXPECT_EQ(acks, kBurst) << "round " << round;
  }
  EXPECT_LE(calls.value() - before, 10) << "40 sends, each of which once made a call of its own";
  EXPECT_GE(calls.value() - before, 1);
}

// A send never overtakes an earlier one of its user's: those that came while the loop's call to Redis
// was on its way wait for its answer, and a later send must not pass them on the credit it leaves.
// Sent one frame a write, the sends reach the loop over many iterations, calls and answers.
TEST_F(RateLimitTest, AUsersSendsKeepTheirOrderWhileTheLoopAsksRedis) {
  Start([](RateLimitConfig& l) { l.sends_per_user = Limit("100000/1s"); });
  auto ws = Join(ana);
  ASSERT_TRUE(ws);
  constexpr int kSends = 300;
  for (int i = 0; i < kSends; ++i) ASSERT_TRUE(ws->SendText(SendFrame("o" + std::to_string(i))).ok());
  std::vector<std::string> acked, delivered;
  while (acked.size() < kSends || delivered.size() < kSends) {
    auto f = ReceiveUntil(*ws, [](const Json& j) { return j.Type() == "ack" || j.Type() == "message"; });
    ASSERT_TRUE(f.ok()) << f.status().ToString() << " after " << acked.size() << " acks";
    if (f->Type() == "ack") acked.push_back(f->doc["client_msg_id"].GetString());
    else delivered.push_back(f->doc["text"].GetString());
  }
  for (int i = 0; i < kSends; ++i) {
    ASSERT_EQ(delivered[i], "hi o" + std::to_string(i)) << "stored out of the order sent";
    ASSERT_EQ(acked[i], "o" + std::to_string(i));
  }
}

// Refused once, a user is refused by the loop until the wait is over, without asking Redis again.
TEST_F(RateLimitTest, ARefusedUserIsRefusedWithoutAskingRedisAgain) {
  Start([](RateLimitConfig& l) { l.sends_per_user = Limit("2/1h"); });
  auto ws = Join(ana);
  ASSERT_TRUE(ws);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(ws->SendText(SendFrame("a" + std::to_string(i))).ok());
  auto [acks, refused] = Count(Answers(*ws, 4), 30 * 60 * 1000);
  EXPECT_EQ(acks, 2);
  EXPECT_EQ(refused, 2);
  Metric& calls = Counter("chatpipe_ingress_send_allowance_calls_total", "");
  const int64_t before = calls.value();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(ws->SendText(SendFrame("b" + std::to_string(i))).ok());
  auto later = Count(Answers(*ws, 5), 30 * 60 * 1000);
  EXPECT_EQ(later.refused, 5);
  EXPECT_EQ(calls.value(), before);
  EXPECT_TRUE(WaitFor([&] { return stack->CountMessages(room).value_or(0) == 2; })) << "the acknowledged are stored";
}

TEST_F(RateLimitTest, JoinsPerConnectionAreLimited) {
  Start([](RateLimitConfig& l) { l.joins_per_connection = Limit("2/1h"); });
  auto ws = Join(ana);  // the first join
  ASSERT_TRUE(ws);
  ASSERT_TRUE(ws->SendText("{\"type\":\"leave\",\"room\":" + std::to_string(room) + "}").ok());
  ASSERT_TRUE(ws->SendText(JoinFrame()).ok());
  ASSERT_TRUE(ReceiveType(*ws, "joined").ok());
  ASSERT_TRUE(ws->SendText("{\"type\":\"leave\",\"room\":" + std::to_string(room) + "}").ok());
  ASSERT_TRUE(ws->SendText(JoinFrame()).ok());
  auto f = ReceiveType(*ws, "error");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_TRUE(RateLimited(*f)) << f->text;
  EXPECT_GT(f->doc["retry_after_ms"].GetInt64(), 0);
}

// Every sign-in is a password check on a shared pool of two threads: from one address they are
// limited whether the password is right or not.
TEST_F(RateLimitTest, SignInsFromOneAddressAreLimitedRightOrWrong) {
  Start([](RateLimitConfig& l) { l.signins_per_address = Limit("3/1h"); });  // ana signed in once in Start
  auto created = stack->Call("POST", "/api/users", TestUser{},
                             "{\"name\":\"dora\",\"email\":\"dora@example.com\",\"password\":\"right-password\"}");
  ASSERT_TRUE(created.ok() && created->status == 201) << (created.ok() ? created->body : "");
  for (int i = 0; i < 2; ++i) {
    auto r = SignIn("dora", "right-password");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200) << r->body;
  }
  for (const char* password : {"right-password", "wrong-password"}) {
    auto r = SignIn("dora", password);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 429) << r->body;
    EXPECT_NE(r->body.find("too many sign-ins from your address"), std::string::npos) << r->body;
    ASSERT_TRUE(r->headers.count("retry-after"));
  }
}

TEST_F(RateLimitTest, WrongPasswordsAreThrottledPerAccountThenEvenTheRightOneWaits) {
  Start([](RateLimitConfig& l) {
    l.login_failures_per_account = Limit("3/1h");
    l.login_failures_per_address = Limit("20/1h");
  });
  for (const char* name : {"dora", "eli"}) {
    auto created = stack->Call("POST", "/api/users", TestUser{},
                               std::string("{\"name\":\"") + name + "\",\"email\":\"" + name +
                                   "@example.com\",\"password\":\"right-password\"}");
    ASSERT_TRUE(created.ok() && created->status == 201) << (created.ok() ? created->body : "");
  }
  for (int i = 0; i < 3; ++i) {
    auto r = SignIn("dora", "wrong-password");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 401) << r->body;
  }
  for (const char* password : {"wrong-password", "right-password"}) {
    auto r = SignIn("DORA", password);  // names match case-insensitively, and so do their buckets
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 429) << r->body;
    EXPECT_NE(r->body.find("\"rate_limited\""), std::string::npos) << r->body;
    ASSERT_TRUE(r->headers.count("retry-after")) << "429 without Retry-After";
    EXPECT_GT(std::stoi(r->headers["retry-after"]), 0);
  }
  // Another account from the same address is not held up, and a name nobody has is counted the same.
  auto eli = SignIn("eli", "right-password");
  ASSERT_TRUE(eli.ok());
  EXPECT_EQ(eli->status, 200) << eli->body;
  for (int i = 0; i < 3; ++i) {
    auto r = SignIn("nobody", "whatever-password");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 401) << r->body;
  }
  auto r = SignIn("nobody", "whatever-password");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 429) << r->body;
}

TEST_F(RateLimitTest, FailedSignInsArePerAddressToo) {
  Start([](RateLimitConfig& l) { l.login_failures_per_address = Limit("4/1h"); });
  for (int i = 0; i < 4; ++i) {
    auto r = SignIn("user" + std::to_string(i), "whatever-password");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 401) << r->body;
  }
  auto r = SignIn("ana", "whatever-password");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 429) << "four failures from this address, each to another name: " << r->body;
}

TEST_F(RateLimitTest, AGuestBurstFromOneAddressGets429) {
  Start([](RateLimitConfig& l) { l.guests_per_address = Limit("5/1h"); });
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(stack->Guest().ok()) << "guest " << i;
  auto r = stack->Call("POST", "/api/sessions/guest", TestUser{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 429) << r->body;
  EXPECT_NE(r->body.find("\"rate_limited\""), std::string::npos) << r->body;
  ASSERT_TRUE(r->headers.count("retry-after"));
  EXPECT_GE(std::stoi(r->headers["retry-after"]), 700) << "one token every 12 minutes";
  // The connection stays open for what is not limited.
  auto rooms = stack->Call("GET", "/api/rooms", ana);
  ASSERT_TRUE(rooms.ok());
  EXPECT_EQ(rooms->status, 200);
}

TEST_F(RateLimitTest, RoomCreationAndSignUpsAreLimited) {
  Start([](RateLimitConfig& l) {
    l.rooms_per_user = Limit("2/1h");  // ana made one in Start
    l.signups_per_address = Limit("2/1h");  // ana signed up in Start
  });
  ASSERT_TRUE(stack->CreateRoom(ana, "second").ok());
  auto third = stack->Call("POST", "/api/rooms", ana, "{\"name\":\"third\"}");
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->status, 429) << third->body;
  ASSERT_TRUE(stack->Register("bea").ok());
  auto cid = stack->Call("POST", "/api/users", TestUser{},
                         "{\"name\":\"cid\",\"email\":\"cid@example.com\",\"password\":\"right-password\"}");
  ASSERT_TRUE(cid.ok());
  EXPECT_EQ(cid->status, 429) << cid->body;
}

TEST_F(RateLimitTest, MemberAdditionsAreLimitedPerUser) {
  Start([](RateLimitConfig& l) { l.members_per_user = Limit("2/1h"); });
  auto secret = stack->CreateRoom(ana, "secret", true);
  ASSERT_TRUE(secret.ok());
  ASSERT_TRUE(stack->Register("bea").ok() && stack->Register("cid").ok());
  const std::string path = "/api/rooms/" + std::to_string(*secret) + "/members";
  for (const char* name : {"bea", "bea"}) {  // an addition that changes nothing counts too
    auto r = stack->Call("POST", path, ana, std::string("{\"user\":\"") + name + "\"}");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 201) << r->body;
  }
  auto third = stack->Call("POST", path, ana, "{\"user\":\"cid\"}");
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->status, 429) << third->body;
  EXPECT_NE(third->body.find("\"rate_limited\""), std::string::npos) << third->body;
  ASSERT_TRUE(third->headers.count("retry-after"));
  EXPECT_GE(std::stoi(third->headers["retry-after"]), 1700) << "one token every 30 minutes";
}

// Objects of public rooms are read without a token; every read is a database lookup, so reads are
// limited per address, with or without a token, found or not.
TEST_F(RateLimitTest, ObjectReadsAreLimitedPerAddress) {
  Start([](RateLimitConfig& l) { l.object_reads_per_address = Limit("2/1h"); });
  const std::string path = "/api/rooms/" + std::to_string(room) + "/objects/" + std::string(64, 'a');
  for (const TestUser& who : {TestUser{}, ana}) {
    auto r = stack->Call("GET", path, who);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 404) << r->body;
  }
  auto third = stack->Call("GET", path, TestUser{});
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->status, 429) << third->body;
  EXPECT_NE(third->body.find("too many image reads from your address"), std::string::npos) << third->body;
}

// A history page before the newest, a room's statistics and the mentions list are database reads a
// client asks for by hand: one bucket a user for all three. The newest page (Redis) takes nothing.
TEST_F(RateLimitTest, DatabaseReadsAskedForByHandAreLimitedPerUser) {
  Start([](RateLimitConfig& l) { l.db_reads_per_user = Limit("2/1h"); });
  const std::string messages = "/api/rooms/" + std::to_string(room) + "/messages";
  for (int i = 0; i < 3; ++i) {
    auto newest = stack->Call("GET", messages, ana);
    ASSERT_TRUE(newest.ok());
    EXPECT_EQ(newest->status, 200) << newest->body;
  }
  auto page = stack->Call("GET", messages + "?before=5", ana);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->status, 200) << page->body;
  auto stats = stack->Call("GET", "/api/rooms/" + std::to_string(room) + "/stats", ana);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->status, 200) << stats->body;
  for (const std::string& path : {messages + "?before=5", std::string("/api/users/me/mentions")}) {
    auto refused = stack->Call("GET", path, ana);
    ASSERT_TRUE(refused.ok());
    EXPECT_EQ(refused->status, 429) << path << ": " << refused->body;
    EXPECT_NE(refused->body.find("\"rate_limited\""), std::string::npos) << refused->body;
  }
}

// One password thread and one place in its queue: a burst of sign-ins is answered at once with 503
// `busy` past that, rather than waiting on (or holding) the database pool.
TEST_F(RateLimitTest, SignInsPastThePasswordQueueAreBusyAtOnce) {
  Start([](RateLimitConfig& l) {
    l.password_threads = 1;
    l.password_queue = 1;
  });
  constexpr int kClients = 8;
  std::vector<long> statuses(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([&, i] {
      auto r = SignIn("ana", "wrong-password");
      statuses[i] = r.ok() ? r->status : 0;
    });
  for (auto& t : clients) t.join();
  int wrong = 0, busy = 0;
  for (long s : statuses) {
    if (s == 401) ++wrong;
    else if (s == 503) ++busy;
    else ADD_FAILURE() << "status " << s;
  }
  EXPECT_GE(wrong, 1);
  EXPECT_GE(busy, 1) << "8 argon2id checks at once, room for 2";
  // The database pool was never theirs: the history answers as usual.
  auto history = stack->Call("GET", "/api/rooms/" + std::to_string(room) + "/messages?limit=20", ana);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->status, 200) << history->body;
}

}  // namespace
}  // namespace chatpipe::test
