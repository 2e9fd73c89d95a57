// End to end through the real services: ingress -> Kafka -> persister -> PostgreSQL + Redis -> ingress
// -> WebSocket clients. Each test owns a TestStack (its own database, topics and Redis keys).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "common/metrics.h"
#include "storage/redis_keys.h"
#include "tests/support/stack_test_base.h"

namespace chatpipe::test {
namespace {

class PipelineTest : public StackTest {
 protected:
  PipelineTest() : StackTest(Start::kIngressAndPersister) {}

  std::unique_ptr<WsClient> Join(const TestUser& user, int64_t room) {
    auto ws = stack->Connect(user);
    EXPECT_TRUE(ws.ok()) << ws.status().ToString();
    if (!ws.ok()) return nullptr;
    EXPECT_TRUE((*ws)->SendText("{\"type\":\"join\",\"room\":" + std::to_string(room) + "}").ok());
    auto joined = ReceiveType(**ws, "joined");
    EXPECT_TRUE(joined.ok()) << joined.status().ToString();
    return std::move(*ws);
  }

  static std::string Send(int64_t room, const std::string& text, const std::string& client_msg_id = "") {
    std::string f = "{\"type\":\"send\",\"room\":" + std::to_string(room) + ",\"text\":\"" + text + "\"";
    if (!client_msg_id.empty()) f += ",\"client_msg_id\":\"" + client_msg_id + "\"";
    return f + "}";
  }

  static bool IsMessage(const Json& j) { return j.Type() == "message"; }
};

TEST_F(PipelineTest, TwoClientsInOneRoomSeeEachOthersMessagesInOrder) {
  auto ana = stack->Register("ana"), bea = stack->Register("bea");
  ASSERT_TRUE(ana.ok() && bea.ok());
  auto room = stack->CreateRoom(*ana, "general");
  ASSERT_TRUE(room.ok()) << room.status().ToString();
  auto a = Join(*ana, *room), b = Join(*bea, *room);
  ASSERT_TRUE(a && b);

  constexpr int kEach = 20;
  for (int i = 0; i < kEach; ++i) {
    ASSERT_TRUE(a->SendText(Send(*room, "from ana " + std::to_string(i), "a" + std::to_string(i))).ok());
    ASSERT_TRUE(b->SendText(Send(*room, "from bea " + std::to_string(i), "b" + std::to_string(i))).ok());
  }
  // Each client gets an ack per send and every message of the room, in one order with rising positions.
  auto collect = [&](WsClient& ws, std::vector<std::string>* texts, std::set<std::string>* acked) {
    int64_t last_pos = 0;
    while (texts->size() < 2 * kEach) {
      auto f = ReceiveUntil(ws, [](const Json& j) { return j.Type() == "message" || j.Type() == "ack"; });
      ASSERT_TRUE(f.ok()) << f.status().ToString() << " after " << texts->size() << " messages";
      if (f->Type() == "ack") {
        acked->insert(f->doc["client_msg_id"].GetString());
        continue;
      }
      EXPECT_EQ(f->doc["room"].GetInt64(), *room);
      EXPECT_GT(f->doc["pos"].GetInt64(), last_pos) << f->text;
      last_pos = f->doc["pos"].GetInt64();
      texts->push_back(f->doc["text"].GetString());
    }
  };
  std::vector<std::string> seen_a, seen_b;
  std::set<std::string> acks_a, acks_b;
  collect(*a, &seen_a, &acks_a);
  collect(*b, &seen_b, &acks_b);
  EXPECT_EQ(seen_a, seen_b);
  // Acks may trail the deliveries; each client gets all of its own.
  while (acks_a.size() < kEach) {
    auto f = ReceiveType(*a, "ack");
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    acks_a.insert(f->doc["client_msg_id"].GetString());
  }
  EXPECT_EQ(acks_a.size(), size_t{kEach});
  // Per sender, the order of sending is kept.
  int next_a = 0, next_b = 0;
  for (const std::string& t : seen_a) {
    if (t.rfind("from ana ", 0) == 0) EXPECT_EQ(t, "from ana " + std::to_string(next_a++));
    else EXPECT_EQ(t, "from bea " + std::to_string(next_b++));
  }
  EXPECT_EQ(next_a, kEach);
  EXPECT_EQ(next_b, kEach);
}

TEST_F(PipelineTest, ClientOfAnotherRoomSeesNothing) {
  auto ana = stack->Register("ana"), cid = stack->Register("cid");
  ASSERT_TRUE(ana.ok() && cid.ok());
  auto general = stack->CreateRoom(*ana, "general"), other = stack->CreateRoom(*cid, "other");
  ASSERT_TRUE(general.ok() && other.ok());
  auto a = Join(*ana, *general), c = Join(*cid, *other);
  ASSERT_TRUE(a && c);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(a->SendText(Send(*general, "secret " + std::to_string(i))).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(ReceiveUntil(*a, IsMessage).ok());
  // Everything for `general` went out before this one: c must see its own message and, before it,
  // nothing of `general` (only its own room's presence and its ack).
  ASSERT_TRUE(c->SendText(Send(*other, "mine")).ok());
  std::vector<Json> before;
  auto mine = ReceiveUntil(*c, IsMessage, std::chrono::seconds(10), &before);
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  EXPECT_STREQ(mine->doc["text"].GetString(), "mine");
  for (const Json& j : before) {
    EXPECT_TRUE(j.Type() == "ack" || j.Type() == "presence") << j.text;
    EXPECT_EQ(j.doc["room"].GetInt64(), *other) << j.text;
  }
}

TEST_F(PipelineTest, JoinWithAfterReplaysWhatWasMissed) {
  TestUser ana;
  int64_t room = 0;
  ASSERT_TRUE(RegisterWithRoom("ana", "general", &ana, &room));
  auto a = Join(ana, room);
  ASSERT_TRUE(a);
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(a->SendText(Send(room, "m" + std::to_string(i))).ok());
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(ReceiveUntil(*a, IsMessage).ok());

  auto late = stack->Connect(ana);
  ASSERT_TRUE(late.ok());
  ASSERT_TRUE((*late)->SendText("{\"type\":\"join\",\"room\":" + std::to_string(room) + ",\"after\":2}").ok());
  auto joined = ReceiveType(**late, "joined");
  ASSERT_TRUE(joined.ok());
  EXPECT_EQ(joined->doc["pos"].GetInt64(), 5);
  for (int want = 3; want <= 5; ++want) {
    auto m = ReceiveUntil(**late, IsMessage);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->doc["pos"].GetInt64(), want);
  }
  // A live message after the replay comes once, in order.
  ASSERT_TRUE(a->SendText(Send(room, "m6")).ok());
  auto m6 = ReceiveUntil(**late, IsMessage);
  ASSERT_TRUE(m6.ok());
  EXPECT_EQ(m6->doc["pos"].GetInt64(), 6);
}

TEST_F(PipelineTest, HistoryComesNewestFirstAndTheRedisListHoldsTen) {
  TestUser ana;
  int64_t room = 0;
  ASSERT_TRUE(RegisterWithRoom("ana", "general", &ana, &room));
  const std::string path = "/api/rooms/" + std::to_string(room) + "/messages";
  for (int i = 1; i <= 25; ++i) {
    auto r = stack->Call("POST", path, ana, "{\"text\":\"n" + std::to_string(i) + "\"}");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 202) << r->body;
  }
  ASSERT_TRUE(WaitFor([&] { return stack->CountMessages(room).value_or(0) == 25; }));
  const std::string key = RoomHistoryKey(stack->config().RedisPrefix(), room);
  ASSERT_TRUE(WaitFor([&] {
    auto head = stack->redis().Command({"LINDEX", key, "0"});
    return head.ok() && head->str.find("\"n25\"") != std::string::npos;
  }));
  auto len = stack->redis().Command({"LLEN", key});
  ASSERT_TRUE(len.ok());
  EXPECT_EQ(len->integer, kHistoryCap);

  // Page through: 10 from Redis, then PostgreSQL by cursor, newest first, no gaps and no repeats.
  std::vector<int64_t> positions;
  std::string query = "?limit=10";
  for (int page = 0; page < 5; ++page) {
    auto r = stack->Call("GET", path + query, ana);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << r->body;
    auto body = ParseJson(r->body);
    ASSERT_TRUE(body.ok());
    for (const auto& m : body->doc["messages"].GetArray()) positions.push_back(m["pos"].GetInt64());
    if (body->doc["next_before"].IsNull()) break;
    query = "?limit=10&before=" + std::to_string(body->doc["next_before"].GetInt64());
  }
  ASSERT_EQ(positions.size(), 25u);
  for (size_t i = 0; i < positions.size(); ++i) EXPECT_EQ(positions[i], 25 - static_cast<int64_t>(i));
}

TEST_F(PipelineTest, RetriedClientMessageIdIsStoredOnce) {
  TestUser ana;
  int64_t room = 0;
  ASSERT_TRUE(RegisterWithRoom("ana", "general", &ana, &room));
  const std::string path = "/api/rooms/" + std::to_string(room) + "/messages";
  for (int i = 0; i < 3; ++i) {
    auto r = stack->Call("POST", path, ana, "{\"text\":\"once\",\"client_msg_id\":\"retry-1\"}");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 202) << r->body;
  }
  // The same retry over the WebSocket, then a marker message: once the marker is stored, every retry
  // before it has been through the persister (one partition per room keeps their order).
  auto a = Join(ana, room);
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->SendText(Send(room, "once", "retry-1")).ok());
  ASSERT_TRUE(a->SendText(Send(room, "marker", "marker")).ok());
  ASSERT_TRUE(WaitFor([&] {
    auto r = stack->pg().Exec("SELECT 1 FROM messages WHERE client_msg_id = 'marker'");
    return r.ok() && r->rows() == 1;
  }));
  auto r = stack->pg().Exec("SELECT count(*) FROM messages WHERE client_msg_id = 'retry-1'");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Int(0, 0), 1);
  EXPECT_EQ(stack->CountMessages(room).value_or(-1), 2);
}

// Every control character but U+0000 (refused at intake, bad_input_test) is acknowledged and
// stored as it was sent, byte for byte, and comes back in the history the same.
TEST_F(PipelineTest, ControlCharactersAreStoredAsSent) {
  TestUser ana;
  int64_t room = 0;
  ASSERT_TRUE(RegisterWithRoom("ana", "general", &ana, &room));
  const std::string path = "/api/rooms/" + std::to_string(room) + "/messages";
  std::string json_text, sent;
  for (int c = 1; c < 0x20; ++c) {
    char escaped[8];
    snprintf(escaped, sizeof escaped, "\\u%04x", c);
    json_text += escaped;
    sent += static_cast<char>(c);
  }
  json_text += "\\u007f end";
  sent += "\x7f end";
  auto r = stack->Call("POST", path, ana, "{\"text\":\"" + json_text + "\",\"client_msg_id\":\"ctl\"}");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 202) << r->body;
  ASSERT_TRUE(WaitFor([&] { return stack->CountMessages(room).value_or(0) == 1; }));
  auto row = stack->pg().Exec("SELECT body FROM messages WHERE client_msg_id = 'ctl'");
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  ASSERT_EQ(row->rows(), 1);
  EXPECT_EQ(std::string(row->Text(0, 0)), sent);
  auto history = stack->Call("GET", path, ana);
  ASSERT_TRUE(history.ok());
  auto body = ParseJson(history->body);
  ASSERT_TRUE(body.ok()) << history->body;
  ASSERT_EQ(body->doc["messages"].Size(), 1u);
  const auto& text = body->doc["messages"][0]["text"];
  EXPECT_EQ(std::string(text.GetString(), text.GetStringLength()), sent);
}

TEST_F(PipelineTest, PrivateRoomRejectsNonMembersUntilAdded) {
  auto ana = stack->Register("ana"), eve = stack->Register("eve");
  ASSERT_TRUE(ana.ok() && eve.ok());
  auto guest = stack->Guest();
  ASSERT_TRUE(guest.ok());
  auto room = stack->CreateRoom(*ana, "secret", /*is_private=*/true);
  ASSERT_TRUE(room.ok());
  const std::string path = "/api/rooms/" + std::to_string(*room) + "/messages";

  for (const TestUser* outsider : {&*eve, &*guest}) {
    auto read = stack->Call("GET", path, *outsider);
    ASSERT_TRUE(read.ok());
    EXPECT_EQ(read->status, 403) << read->body;
    auto post = stack->Call("POST", path, *outsider, "{\"text\":\"let me in\"}");
    ASSERT_TRUE(post.ok());
    EXPECT_EQ(post->status, 403) << post->body;
    auto ws = stack->Connect(*outsider);
    ASSERT_TRUE(ws.ok());
    ASSERT_TRUE((*ws)->SendText("{\"type\":\"join\",\"room\":" + std::to_string(*room) + "}").ok());
    auto err = ReceiveType(**ws, "error");
    ASSERT_TRUE(err.ok()) << err.status().ToString();
    EXPECT_STREQ(err->doc["code"].GetString(), "forbidden");
    // The room list does not show it to them either.
    auto list = stack->Call("GET", "/api/rooms", *outsider);
    ASSERT_TRUE(list.ok());
    EXPECT_EQ(list->body.find("\"secret\""), std::string::npos) << list->body;
  }
  // A non-member cannot add members; a member can.
  auto sneaky = stack->Call("POST", "/api/rooms/" + std::to_string(*room) + "/members", *eve, "{\"user\":\"eve\"}");
  ASSERT_TRUE(sneaky.ok());
  EXPECT_EQ(sneaky->status, 403) << sneaky->body;
  const std::string generation = RoomsGenerationKey(stack->config().RedisPrefix());
  auto generation_now = [&] {
    auto g = stack->redis().Command({"GET", generation});
    return g.ok() ? g->str : "";
  };
  auto add = stack->Call("POST", "/api/rooms/" + std::to_string(*room) + "/members", *ana, "{\"user\":\"eve\"}");
  ASSERT_TRUE(add.ok());
  EXPECT_LT(add->status, 300) << add->body;
  auto read = stack->Call("GET", path, *eve);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->status, 200) << read->body;
  // Adding her again changes nothing, and leaves the cached room list alone (each invalidation makes
  // every loop's next room list a read of all rooms).
  const std::string before = generation_now();
  auto again = stack->Call("POST", "/api/rooms/" + std::to_string(*room) + "/members", *ana, "{\"user\":\"eve\"}");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, add->status) << again->body;
  EXPECT_EQ(generation_now(), before);
}

TEST_F(PipelineTest, EveryResponseNamesItsInstance) {
  for (const char* path : {"/healthz", "/api/rooms", "/no/such/thing"}) {
    auto r = HttpRequest("GET", stack->Url(path));
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->headers["x-instance-id"].empty()) << path;
  }
  auto metrics = HttpRequest("GET", stack->Url("/metrics"));
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("# TYPE chatpipe_ingress_messages_accepted_total counter"), std::string::npos);
}

// The count of one series in a /metrics text (0 when absent).
int64_t MetricValue(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  return at == std::string::npos ? 0 : std::stoll(text.substr(at + series.size() + 2));
}

TEST_F(PipelineTest, EveryHopOfAMessagesPathIsTimedInMetrics) {
  auto ana = stack->Register("ana"), bea = stack->Register("bea");
  ASSERT_TRUE(ana.ok() && bea.ok());
  auto room = stack->CreateRoom(*ana, "timed");
  ASSERT_TRUE(room.ok());
  auto a = Join(*ana, *room), b = Join(*bea, *room);
  ASSERT_TRUE(a && b);
  // The stack runs the ingress and the persister in this process: one /metrics shows every hop.
  auto scrape = [&] {
    auto r = HttpRequest("GET", stack->Url("/metrics"));
    return r.ok() ? r->body : std::string();
  };
  auto count = [](const std::string& text, const std::string& labels) {
    return MetricValue(text, "chatpipe_latency_seconds_count{" + labels + "}");
  };
  // A worker times every batch it polls and applies: a batch replayed (a rebalance on a young broker, a
  // retried apply) is timed again, so its hops count each message at least once.
  const std::vector<std::string> worker_hops = {"hop=\"kafka\",worker=\"persist\"", "hop=\"apply\",worker=\"persist\"",
                                                "hop=\"store\",worker=\"persist\"", "hop=\"publish\",worker=\"persist\""};
  const std::vector<std::string> per_loop = {"hop=\"fanout\"", "hop=\"server\""};
  const std::string before = scrape();
  ASSERT_NE(before.find("# TYPE chatpipe_latency_seconds histogram"), std::string::npos);
  constexpr int kMessages = 5;
  for (int i = 0; i < kMessages; ++i) ASSERT_TRUE(a->SendText(Send(*room, "timed " + std::to_string(i))).ok());
  for (int i = 0; i < kMessages; ++i) ASSERT_TRUE(ReceiveUntil(*b, IsMessage).ok());
  // The fan-out is counted just after the write that the client read, and the persister's apply and
  // publish once Redis has answered, which may be after the frame it published reached the client:
  // wait for the counts to catch up.
  std::string after;
  WaitFor([&] {
    after = scrape();
    bool all = count(after, per_loop[1]) - count(before, per_loop[1]) >= kMessages;
    for (const std::string& hop : worker_hops) all = all && count(after, hop) - count(before, hop) >= kMessages;
    return all;
  });
  EXPECT_EQ(count(after, "hop=\"produce\"") - count(before, "hop=\"produce\""), kMessages);
  for (const std::string& hop : worker_hops) {
    EXPECT_GE(count(after, hop) - count(before, hop), kMessages) << hop;
    EXPECT_LE(count(after, hop) - count(before, hop), 2 * kMessages) << hop;
  }
  // Each of the room's two members may sit on either of the ingress's two loops.
  for (const std::string& hop : per_loop) {
    EXPECT_GE(count(after, hop) - count(before, hop), kMessages) << hop;
    EXPECT_LE(count(after, hop) - count(before, hop), 2 * kMessages) << hop;
  }
  // Buckets are cumulative and end with +Inf, which holds the count; nothing on loopback takes 10 s.
  const std::string server = "chatpipe_latency_seconds_bucket{hop=\"server\",le=";
  EXPECT_EQ(MetricValue(after, server + "\"+Inf\"}"), count(after, per_loop[1]));
  EXPECT_EQ(MetricValue(after, server + "\"10\"}"), count(after, per_loop[1]));
  EXPECT_LE(MetricValue(after, server + "\"0.0001\"}"), MetricValue(after, server + "\"0.1\"}"));
}

TEST(StaticFilesTest, HeadAnswersLikeGetWithoutABody) {
  auto s = TestStack::Create();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  char dir[] = "/tmp/chatpipe-web.XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string page = "<!doctype html><title>chatpipe</title>";
  std::ofstream(std::string(dir) + "/index.html") << page;
  ASSERT_TRUE((*s)->StartIngress([&](IngressConfig& c) { c.web_root = dir; }).ok());
  auto get = HttpRequest("GET", (*s)->Url("/"));
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, page);
  // HEAD then GET pipelined on one connection: the HEAD answer must end with its headers (no body),
  // or the GET's answer would not follow right after them.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>((*s)->port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const std::string requests =
      "HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET /livez HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(fd, requests.data(), requests.size(), 0), ssize_t(requests.size()));
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) answer.append(buf, n);
  ::close(fd);
  size_t end_of_head = answer.find("\r\n\r\n");
  ASSERT_NE(end_of_head, std::string::npos) << answer;
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_NE(answer.find("Content-Length: " + std::to_string(page.size())), std::string::npos) << answer;
  EXPECT_EQ(answer.substr(end_of_head + 4, 12), "HTTP/1.1 200") << answer;
  EXPECT_NE(answer.find("\"live\":true"), std::string::npos) << answer;
  std::filesystem::remove_all(dir);
}

// A client may send its first frames in the same write as its upgrade request: once switched, the
// server reads them as WebSocket frames, not as a next HTTP request.
TEST_F(PipelineTest, FramesInTheSameWriteAsTheUpgradeAreRead) {
  TestUser ana;
  int64_t room = 0;
  ASSERT_TRUE(RegisterWithRoom("ana", "early", &ana, &room));
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(stack->port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  timeval five{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
  const uint8_t key[4] = {7, 1, 9, 3};
  const std::string bytes =
      "GET /ws?token=" + ana.token +
      " HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" +
      ws::EncodeFrame(ws::Opcode::kText, "{\"type\":\"join\",\"room\":" + std::to_string(room) + "}", key);
  ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), 0), ssize_t(bytes.size()));

  std::string head;
  std::string joined;
  ws::FrameDecoder decoder(ws::Role::kClient);
  char buf[4096];
  for (ssize_t n; joined.empty() && (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
    std::string_view in(buf, static_cast<size_t>(n));
    if (head.find("\r\n\r\n") == std::string::npos) {
      head.append(in);
      size_t end = head.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      in = std::string_view(head).substr(end + 4);
    }
    while (!in.empty() && joined.empty()) {
      ws::Event event;
      in.remove_prefix(decoder.Feed(in.data(), in.size(), &event));
      ASSERT_FALSE(decoder.failed()) << decoder.error_reason();
      if (event.type == ws::Event::Type::kText && event.payload.find("\"type\":\"joined\"") != std::string::npos)
        joined = event.payload;
    }
  }
  ::close(fd);
  EXPECT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
  EXPECT_NE(joined.find("\"room\":" + std::to_string(room)), std::string::npos) << "no joined frame: " << head;
}

}  // namespace
}  // namespace chatpipe::test
