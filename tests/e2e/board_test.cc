// The pixel board end to end (issue 18, docs/board.md): ingress in this process, the board worker as
// the stack runs it (a child process), the real Kafka, PostgreSQL and Redis. Placements reach every
// subscriber, the cooldown holds across two ingress processes, the live board equals the board
// rebuilt from the history, and a client that subscribes during a burst, following the protocol,
// ends with the server's board.
#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/message_id.h"
#include "common/metrics.h"
#include "ingress/board_api.h"
#include "ingress/board_hub.h"
#include "ingress/websocket.h"
#include "common/events.h"
#include "storage/board_history.h"
#include "tests/support/stack_test_base.h"
#include "tests/support/topic_reader.h"

namespace chatpipe::test {
namespace {

using namespace std::chrono_literals;

constexpr int kWidth = 16, kHeight = 8;
// A version no board reaches: ?v= with it always reads Redis, never a loop's copy.
constexpr int64_t kNewerThanAny = std::numeric_limits<int64_t>::max();

int PixelOf(const std::string& board, int x, int y) {
  const size_t i = static_cast<size_t>(y) * kWidth + x;
  const auto b = static_cast<unsigned char>(board[i / 2]);
  return i % 2 == 0 ? b >> 4 : b & 0x0f;
}

void SetPixel(std::string& board, int x, int y, int color) {
  const size_t i = static_cast<size_t>(y) * kWidth + x;
  auto b = static_cast<unsigned char>(board[i / 2]);
  b = i % 2 == 0 ? static_cast<unsigned char>((b & 0x0f) | color << 4) : static_cast<unsigned char>((b & 0xf0) | color);
  board[i / 2] = static_cast<char>(b);
}

std::string PlaceBody(int x, int y, long long color) {
  return "{\"x\":" + std::to_string(x) + ",\"y\":" + std::to_string(y) + ",\"color\":" + std::to_string(color) + "}";
}

// The WebSocket's `place` frame; `client_msg_id` left out when empty.
std::string PlaceFrame(int x, int y, int color, const std::string& client_msg_id = "") {
  return "{\"type\":\"place\",\"x\":" + std::to_string(x) + ",\"y\":" + std::to_string(y) +
         ",\"color\":" + std::to_string(color) +
         (client_msg_id.empty() ? "" : ",\"client_msg_id\":\"" + client_msg_id + "\"") + "}";
}

// A client's copy of the board, kept by the protocol of docs/board.md.
struct ClientBoard {
  std::string bytes;
  int64_t version = -1;  // -1: not fetched yet
  std::vector<Json> held;
};

class BoardTest : public StackTest {
 protected:
  void SetUp() override {
    StackTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(stack->StartIngress([this](IngressConfig& c) { Configure(c); }).ok());
    ASSERT_TRUE(stack->StartWorkerProcess("board", BoardFlags()).ok());
  }
  virtual int CooldownMs() const { return 0; }
  void Configure(IngressConfig& c) const {
    c.board.width = kWidth;
    c.board.height = kHeight;
    c.board.cooldown_ms = CooldownMs();
    c.limits.board_reads_per_address = {};  // the tests poll the board
  }
  std::vector<std::string> BoardFlags() const {
    return {"--board-width", std::to_string(kWidth), "--board-height", std::to_string(kHeight),
            "--board-cooldown-ms", std::to_string(CooldownMs())};
  }

  Result<HttpResponse> Place(const TestUser& user, int x, int y, int color) {
    return stack->Call("PUT", "/api/board/pixels", user, PlaceBody(x, y, color));
  }
  Result<HttpResponse> GetBoard(int64_t min_version = 0, const std::vector<std::string>& headers = {}) {
    return HttpRequest("GET", stack->Url("/api/board" + (min_version ? "?v=" + std::to_string(min_version) : "")), "",
                       headers);
  }
  // Waits until the board worker has stored `count` placements in the history.
  bool HistoryReaches(int64_t count) {
    return WaitFor([&] {
      auto n = stack->pg().Exec("SELECT count(*) FROM board_placements");
      return n.ok() && n->Int(0, 0) == count;
    }, 30s);
  }
  int64_t VersionOf(const HttpResponse& r) { return std::stoll(r.headers.at("x-board-version")); }

  Result<std::unique_ptr<WsClient>> Subscribed(const TestUser& user) {
    auto ws = stack->Connect(user);
    if (!ws.ok()) return ws.status();
    if (Status s = (*ws)->SendText(R"({"type":"board_subscribe"})"); !s.ok()) return s;
    auto ok = ReceiveType(**ws, "board_subscribed");
    if (!ok.ok()) return ok.status();
    return ws;
  }

  // The answer to a `place` frame: `placed` or `error` (pixels frames of a subscribed socket skipped).
  static Result<Json> PlaceAnswer(WsClient& ws) {
    return ReceiveUntil(ws, [](const Json& j) { return j.Type() == "placed" || j.Type() == "error"; }, 30s);
  }
  // The history's rows (the worker stores them before it publishes the frame).
  int64_t HistoryRows() {
    auto n = stack->pg().Exec("SELECT count(*) FROM board_placements");
    return n.ok() ? n->Int(0, 0) : -1;
  }

  // Whether j is a `pixels` frame that carries [x, y, color].
  static bool CarriesPixel(const Json& j, int x, int y, int color) {
    if (j.Type() != "pixels") return false;
    for (const auto& p : j.doc["pixels"].GetArray())
      if (p[0].GetInt() == x && p[1].GetInt() == y && p[2].GetInt() == color) return true;
    return false;
  }
  // Receives `pixels` frames until one carries [x, y, color].
  Result<Json> FrameWith(WsClient& ws, int x, int y, int color) {
    return ReceiveUntil(ws, [&](const Json& j) { return CarriesPixel(j, x, y, color); }, 30s);
  }

  // Step 3 of the protocol for one frame: false when a version is missing (fetch again).
  static bool Apply(ClientBoard& b, const Json& frame) {
    const int64_t prev = frame.doc["prev"].GetInt64(), v = frame.doc["v"].GetInt64();
    if (v <= b.version) return true;
    if (prev > b.version) return false;
    for (const auto& p : frame.doc["pixels"].GetArray()) SetPixel(b.bytes, p[0].GetInt(), p[1].GetInt(), p[2].GetInt());
    b.version = v;
    return true;
  }
  // Fetches the board (at least `min_version`) and applies what is held, fetching again on a gap.
  void Fetch(ClientBoard& b, int64_t min_version) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      auto r = GetBoard(min_version);
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->status, 200);
      b.bytes = r->body;
      b.version = VersionOf(*r);
      std::vector<Json> held;
      held.swap(b.held);
      size_t i = 0;
      for (; i < held.size(); ++i)
        if (!Apply(b, held[i])) break;
      if (i == held.size()) return;
      min_version = held[i].doc["prev"].GetInt64();
      for (; i < held.size(); ++i) b.held.push_back(std::move(held[i]));
    }
    FAIL() << "the board never caught up with its frames";
  }
};

// A ?v= above every version there is cannot be served from the loop's cached board, but it must not
// read the whole board from Redis on each request either: above what the loop has seen, it counts as
// the newest the loop has seen. Reads are then bounded by the cache's lifetime, per loop, not by requests.
TEST_F(BoardTest, AMadeUpVersionForcesNoReadWhileTheCachedBoardIsFresh) {
  Metric& reads = Counter("chatpipe_ingress_board_reads_total", "");  // the ingress runs in this process
  const int64_t before = reads.value();
  constexpr int kRequests = 50;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRequests; ++i) {
    auto r = GetBoard(int64_t{1} << 62);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(VersionOf(*r), 0);
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const int64_t lifetimes = elapsed / kBoardCacheMs + 1;
  const int64_t loops = 2;  // the stack's ingress threads; each keeps its own board
  EXPECT_LE(reads.value() - before, loops * (lifetimes + 1))
      << kRequests << " requests over " << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
      << " ms";
}

class BoardCooldownTest : public BoardTest {
 protected:
  int CooldownMs() const override { return 60000; }
};

TEST_F(BoardTest, MetaTellsTheBoardsShape) {
  auto r = HttpRequest("GET", stack->Url("/api/board/meta"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200);
  auto j = ParseJson(r->body);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->doc["width"].GetInt(), kWidth);
  EXPECT_EQ(j->doc["height"].GetInt(), kHeight);
  EXPECT_EQ(j->doc["palette"].Size(), 16u);
  EXPECT_EQ(std::string(j->doc["palette"][0].GetString()), "#ffffff");
  EXPECT_EQ(j->doc["cooldown_ms"].GetInt(), 0);
}

TEST_F(BoardTest, TwoClientsSeeEachOthersPlacementsAndTheBoardShowsThem) {
  auto ana = stack->Register("ana");
  auto guest = stack->Guest();
  ASSERT_TRUE(ana.ok() && guest.ok());
  auto ana_ws = Subscribed(*ana);
  auto guest_ws = Subscribed(*guest);
  ASSERT_TRUE(ana_ws.ok() && guest_ws.ok());

  auto placed = Place(*ana, 3, 4, 5);
  ASSERT_TRUE(placed.ok());
  ASSERT_EQ(placed->status, 202) << placed->body;
  auto ack = ParseJson(placed->body);
  ASSERT_TRUE(ack.ok());
  EXPECT_TRUE(ack->doc["id"].IsString());
  EXPECT_GT(ack->doc["ts"].GetInt64(), 0);
  ASSERT_TRUE(FrameWith(**guest_ws, 3, 4, 5).ok());
  ASSERT_TRUE(FrameWith(**ana_ws, 3, 4, 5).ok());

  auto by_guest = Place(*guest, 15, 7, 12);
  ASSERT_TRUE(by_guest.ok());
  ASSERT_EQ(by_guest->status, 202) << by_guest->body;
  auto frame = FrameWith(**ana_ws, 15, 7, 12);
  ASSERT_TRUE(frame.ok());
  ASSERT_TRUE(FrameWith(**guest_ws, 15, 7, 12).ok());

  auto board = GetBoard(frame->doc["v"].GetInt64());
  ASSERT_TRUE(board.ok());
  ASSERT_EQ(board->status, 200);
  ASSERT_EQ(board->body.size(), static_cast<size_t>(kWidth * kHeight / 2));
  EXPECT_EQ(PixelOf(board->body, 3, 4), 5);
  EXPECT_EQ(PixelOf(board->body, 15, 7), 12);
  EXPECT_EQ(PixelOf(board->body, 0, 0), 0);
  EXPECT_EQ(board->headers["content-type"], "application/octet-stream");
  EXPECT_EQ(board->headers["cache-control"], "public, max-age=3");
  const std::string etag = board->headers["etag"];
  EXPECT_EQ(etag, "\"" + board->headers["x-board-version"] + "\"");
  EXPECT_GE(VersionOf(*board), frame->doc["v"].GetInt64());

  auto again = GetBoard(0, {"If-None-Match: " + etag});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
  auto other = GetBoard(0, {"If-None-Match: \"0\""});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->status, 200);

  // The pixel's story: colour and who placed it.
  ASSERT_EQ(Place(*guest, 3, 4, 9)->status, 202);
  ASSERT_TRUE(FrameWith(**ana_ws, 3, 4, 9).ok());
  auto story = HttpRequest("GET", stack->Url("/api/board/pixels/3/4"));
  ASSERT_TRUE(story.ok());
  ASSERT_EQ(story->status, 200) << story->body;
  auto s = ParseJson(story->body);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->doc["color"].GetInt(), 9);
  ASSERT_EQ(s->doc["history"].Size(), 2u);
  EXPECT_EQ(std::string(s->doc["history"][0]["user"]["name"].GetString()), guest->name);
  EXPECT_EQ(std::string(s->doc["history"][1]["user"]["name"].GetString()), "ana");
  EXPECT_EQ(s->doc["history"][1]["color"].GetInt(), 5);
  EXPECT_EQ(std::string(s->doc["history"][1]["id"].GetString()), std::string(ack->doc["id"].GetString()));

  // Unsubscribed, a client hears nothing more; its next frame is the answer to something else.
  ASSERT_TRUE((*ana_ws)->SendText(R"({"type":"board_unsubscribe"})").ok());
  ASSERT_TRUE(ReceiveType(**ana_ws, "board_unsubscribed").ok());
  ASSERT_EQ(Place(*guest, 1, 1, 1)->status, 202);
  ASSERT_TRUE(FrameWith(**guest_ws, 1, 1, 1).ok());
  ASSERT_TRUE((*ana_ws)->SendText(R"({"type":"board_subscribe"})").ok());
  auto next = (*ana_ws)->ReceiveText(10s);
  ASSERT_TRUE(next.ok());
  auto welcome = ParseJson(*next);
  ASSERT_TRUE(welcome.ok());
  EXPECT_EQ(welcome->Type(), "board_subscribed");
  // The version the subscription began at: every change so far is at or below it.
  EXPECT_GE(welcome->doc["v"].GetInt64(), frame->doc["v"].GetInt64() + 2);
}

TEST_F(BoardTest, SubscribesCountAsJoinsAndAreRefusedPastTheLimit) {
  auto guest = stack->Guest();
  ASSERT_TRUE(guest.ok());
  auto ws = stack->Connect(*guest);
  ASSERT_TRUE(ws.ok());
  // The connection's join bucket holds 100: the 101st subscribe within the period is refused.
  for (int i = 0; i < 101; ++i) ASSERT_TRUE((*ws)->SendText(R"({"type":"board_subscribe"})").ok());
  auto refused = ReceiveUntil(**ws, [](const Json& j) { return j.Type() == "error"; }, 10s);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(std::string(refused->doc["code"].GetString()), "rate_limited");
  EXPECT_GT(refused->doc["retry_after_ms"].GetInt64(), 0);
}

TEST_F(BoardTest, BadPlacementsAndReadsGetClearErrors) {
  auto ana = stack->Register("ana");
  ASSERT_TRUE(ana.ok());
  struct Case {
    std::string body;
    long status;
    std::string code;
  };
  for (const Case& c : std::vector<Case>{{PlaceBody(kWidth, 0, 1), 400, "bad_pixel"},
                                         {PlaceBody(0, -1, 1), 400, "bad_pixel"},
                                         {PlaceBody(0, 0, 16), 400, "bad_pixel"},
                                         {PlaceBody(0, 0, 99999999999LL), 400, "bad_pixel"},
                                         {R"({"x":1,"y":1})", 400, "bad_field"},
                                         {R"({"x":1,"y":1,"color":"red"})", 400, "bad_field"},
                                         {R"({"x":1,"y":1,"color":1,"extra":2})", 400, "unknown_field"},
                                         {"not json", 400, "bad_json"}}) {
    auto r = stack->Call("PUT", "/api/board/pixels", *ana, c.body);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, c.status) << c.body << " -> " << r->body;
    auto j = ParseJson(r->body);
    ASSERT_TRUE(j.ok()) << r->body;
    EXPECT_EQ(std::string(j->doc["error"]["code"].GetString()), c.code) << c.body;
  }
  auto anonymous = HttpRequest("PUT", stack->Url("/api/board/pixels"), PlaceBody(1, 1, 1));
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ(anonymous->status, 401);
  auto off = HttpRequest("GET", stack->Url("/api/board/pixels/" + std::to_string(kWidth) + "/0"));
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->status, 404);
  auto bad_version = HttpRequest("GET", stack->Url("/api/board?v=x"));
  ASSERT_TRUE(bad_version.ok());
  EXPECT_EQ(bad_version->status, 400);
  auto post = HttpRequest("POST", stack->Url("/api/board/pixels"), PlaceBody(1, 1, 1));
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->headers["allow"], "PUT");
  // Nothing refused reached Kafka: the board's history is empty.
  auto rows = stack->pg().Exec("SELECT count(*) FROM board_placements");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->Int(0, 0), 0);
}

TEST_F(BoardTest, APlacementOverTheSocketIsAckedSeenBySubscribersAndInThePixelsStory) {
  auto ana = stack->Register("ana");
  auto guest = stack->Guest();
  ASSERT_TRUE(ana.ok() && guest.ok());
  auto watcher = Subscribed(*guest);
  ASSERT_TRUE(watcher.ok());
  auto ana_ws = stack->Connect(*ana);  // placing needs no subscription
  ASSERT_TRUE(ana_ws.ok());

  ASSERT_TRUE((*ana_ws)->SendText(PlaceFrame(6, 2, 7, "p-1")).ok());
  auto placed = PlaceAnswer(**ana_ws);
  ASSERT_TRUE(placed.ok()) << placed.status().ToString();
  ASSERT_EQ(placed->Type(), "placed") << placed->text;
  ASSERT_TRUE(placed->doc["id"].IsString());
  const std::string id = placed->doc["id"].GetString();
  EXPECT_GT(std::stoull(id), 0u);
  // The id's time is the answer's ts, as over HTTP.
  EXPECT_EQ(placed->doc["ts"].GetInt64(), static_cast<int64_t>(MessageIdGenerator::TimestampMs(std::stoull(id))));
  EXPECT_EQ(std::string(placed->doc["client_msg_id"].GetString()), "p-1");
  ASSERT_TRUE(FrameWith(**watcher, 6, 2, 7).ok());

  auto story = HttpRequest("GET", stack->Url("/api/board/pixels/6/2"));
  ASSERT_TRUE(story.ok());
  ASSERT_EQ(story->status, 200) << story->body;
  auto s = ParseJson(story->body);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->doc["color"].GetInt(), 7);
  ASSERT_EQ(s->doc["history"].Size(), 1u);
  EXPECT_EQ(std::string(s->doc["history"][0]["id"].GetString()), id);
  EXPECT_EQ(std::string(s->doc["history"][0]["user"]["name"].GetString()), "ana");
  EXPECT_EQ(s->doc["history"][0]["ts"].GetInt64(), placed->doc["ts"].GetInt64());

  // Without a client_msg_id the answer has none; a subscribed socket places too. Its own pixels frame
  // may come before its answer (the worker can publish before the delivery report is served).
  ASSERT_TRUE((*watcher)->SendText(PlaceFrame(6, 2, 1)).ok());
  std::string answer;
  bool seen = false;
  auto both = ReceiveUntil(**watcher, [&](const Json& j) {
    if (j.Type() == "placed" || j.Type() == "error") answer = j.text;
    seen |= CarriesPixel(j, 6, 2, 1);
    return !answer.empty() && seen;
  }, 30s);
  ASSERT_TRUE(both.ok()) << "answer: " << answer << ", frame seen: " << seen;
  auto again = ParseJson(answer);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->Type(), "placed") << again->text;
  EXPECT_FALSE(again->doc.HasMember("client_msg_id"));
  EXPECT_GT(std::stoull(again->doc["id"].GetString()), std::stoull(id));
}

TEST_F(BoardTest, BadPlacementsOverTheSocketGetErrorFramesAndNeverReachKafka) {
  auto ana = stack->Register("ana");
  ASSERT_TRUE(ana.ok());
  auto watcher = Subscribed(*ana);
  ASSERT_TRUE(watcher.ok());
  auto ws = stack->Connect(*ana);
  ASSERT_TRUE(ws.ok());
  struct Case {
    std::string frame;
    std::string code;
    std::string client_msg_id;  // echoed in the error frame
  };
  for (const Case& c : std::vector<Case>{
           {PlaceFrame(kWidth, 0, 1, "b-1"), "bad_pixel", "b-1"},
           {PlaceFrame(0, kHeight, 1), "bad_pixel", ""},
           {PlaceFrame(0, 0, 16, "b-2"), "bad_pixel", "b-2"},
           {PlaceFrame(-1, 0, 1), "bad_pixel", ""},
           {R"({"type":"place","x":1,"y":1,"client_msg_id":"b-3"})", "bad_field", "b-3"},
           {R"({"type":"place","x":1,"y":1,"color":"red"})", "bad_field", ""},
           {R"({"type":"place","x":1,"y":1.5,"color":2})", "bad_field", ""},
           {R"({"type":"place","x":1,"y":1,"color":2,"client_msg_id":7})", "bad_field", ""},
           {R"({"type":"place","x":1,"y":1,"color":2,"client_msg_id":"has space\u0001"})", "bad_client_msg_id",
            "has space\x01"},
           {R"({"type":"place","x":1,"y":1,"color":2,"room":3})", "unknown_field", ""},
           {R"({"type":"place","x":1,"y":1,"color":2,"user":9})", "unknown_field", ""},
           {R"({"type":"placed","x":1,"y":1,"color":2})", "unknown_type", ""}}) {
    ASSERT_TRUE((*ws)->SendText(c.frame).ok());
    auto e = PlaceAnswer(**ws);
    ASSERT_TRUE(e.ok()) << c.frame;
    ASSERT_EQ(e->Type(), "error") << c.frame << " -> " << e->text;
    EXPECT_EQ(std::string(e->doc["code"].GetString()), c.code) << c.frame;
    EXPECT_GT(e->doc["reason"].GetStringLength(), 0u);
    if (c.client_msg_id.empty()) EXPECT_FALSE(e->doc.HasMember("client_msg_id")) << c.frame;
    else EXPECT_EQ(std::string(e->doc["client_msg_id"].GetString()), c.client_msg_id) << c.frame;
  }
  // Then one good placement on the same socket: every refusal came before it, at intake. Once it is
  // on the board (the worker stores history first), the history holds it alone.
  ASSERT_TRUE((*ws)->SendText(PlaceFrame(2, 3, 4, "good")).ok());
  auto placed = PlaceAnswer(**ws);
  ASSERT_TRUE(placed.ok());
  ASSERT_EQ(placed->Type(), "placed") << placed->text;
  ASSERT_TRUE(FrameWith(**watcher, 2, 3, 4).ok());
  EXPECT_EQ(HistoryRows(), 1);
}

// A script's socket may send many placements without waiting: past kPlacementsInFlight awaiting their
// answer, the rest are refused `busy` at once. All go in one TCP segment, read at once, before any
// answer can come back (Kafka's come on a later turn of the loop), so the count is exact.
TEST_F(BoardTest, PlacementsInFlightOnOneSocketAreBoundedAndTheRestRefusedBusy) {
  auto guest = stack->Guest();
  ASSERT_TRUE(guest.ok());
  auto ws = stack->Connect(*guest);
  ASSERT_TRUE(ws.ok());
  constexpr int kExtra = 8;
  constexpr int kBurst = kPlacementsInFlight + kExtra;
  static_assert(kBurst <= kWidth * kHeight);
  const uint8_t key[4] = {9, 8, 7, 6};
  std::string burst;
  for (int i = 0; i < kBurst; ++i)
    burst += ws::EncodeFrame(ws::Opcode::kText, PlaceFrame(i % kWidth, i / kWidth, 1 + i % 15, "q-" + std::to_string(i)), key);
  ASSERT_TRUE((*ws)->SendRaw(burst).ok());
  std::set<int> placed, busy;
  for (int i = 0; i < kBurst; ++i) {
    auto a = PlaceAnswer(**ws);
    ASSERT_TRUE(a.ok()) << "answer " << i << ": " << a.status().ToString();
    const int n = std::stoi(std::string(a->doc["client_msg_id"].GetString()).substr(2));
    if (a->Type() == "placed") {
      placed.insert(n);
      continue;
    }
    EXPECT_EQ(std::string(a->doc["code"].GetString()), "busy") << a->text;
    EXPECT_NE(std::string(a->doc["reason"].GetString()).find(std::to_string(kPlacementsInFlight)), std::string::npos)
        << "the refusal names the limit: " << a->text;
    busy.insert(n);
  }
  EXPECT_EQ(placed.size(), static_cast<size_t>(kPlacementsInFlight));
  EXPECT_EQ(busy.size(), static_cast<size_t>(kExtra));
  // The first ones were taken, the ones past the bound refused.
  for (int i = 0; i < kPlacementsInFlight; ++i) EXPECT_EQ(placed.count(i), 1u) << i;
  ASSERT_TRUE(HistoryReaches(kPlacementsInFlight));
  // Answered, they are in flight no more: the socket places again.
  ASSERT_TRUE((*ws)->SendText(PlaceFrame(kWidth - 1, kHeight - 1, 2, "after")).ok());
  auto after = PlaceAnswer(**ws);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->Type(), "placed") << after->text;
}

// The placements a loop takes in one iteration travel as one Kafka message (ingress/placement_batch.h):
// the frames of one segment are read by one callback, and at cooldown 0 each is added at once.
TEST_F(BoardTest, ThePlacementsOfOneLoopIterationTravelAsOneKafkaMessage) {
  auto guest = stack->Guest();
  ASSERT_TRUE(guest.ok());
  auto ws = stack->Connect(*guest);
  ASSERT_TRUE(ws.ok());
  constexpr int kBurst = 10;
  const uint8_t key[4] = {1, 2, 3, 4};
  std::string burst;
  for (int i = 0; i < kBurst; ++i)
    burst += ws::EncodeFrame(ws::Opcode::kText, PlaceFrame(i % kWidth, i / kWidth, 3, "b-" + std::to_string(i)), key);
  ASSERT_TRUE((*ws)->SendRaw(burst).ok());
  std::set<uint64_t> ids;
  for (int i = 0; i < kBurst; ++i) {
    auto a = PlaceAnswer(**ws);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    ASSERT_EQ(a->Type(), "placed") << a->text;
    ids.insert(std::stoull(a->doc["id"].GetString()));
  }
  auto reader = test::TopicReader::Create(stack->config(), stack->config().Topic(kBoardTopic));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::map<uint64_t, int> message_of;  // id -> the index of the message that holds it
  int messages = 0;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (message_of.size() < ids.size() && std::chrono::steady_clock::now() < deadline)
    for (const KafkaMessage& m : (*reader)->Read(1, 1s)) {
      auto placements = DecodePixelPlacements(m.payload);
      ASSERT_TRUE(placements.ok()) << placements.status().ToString();
      for (const PixelPlacement& p : *placements) {
        if (!ids.count(p.id)) continue;
        EXPECT_TRUE(message_of.emplace(p.id, messages).second) << "twice in Kafka: " << p.id;
      }
      ++messages;
    }
  ASSERT_EQ(message_of.size(), ids.size());
  std::set<int> holding;
  for (const auto& [id, message] : message_of) holding.insert(message);
  EXPECT_EQ(holding.size(), 1u) << "the burst's placements came in " << holding.size() << " messages";
}

// A socket that places and closes at once: the placement is still made (the cooldown was taken), and
// its answer, finding no connection, is dropped; the ingress goes on serving.
TEST_F(BoardTest, APlacementWhoseSocketClosedMeanwhileIsMadeAndItsAnswerDropped) {
  auto guest = stack->Guest();
  ASSERT_TRUE(guest.ok());
  auto watcher = Subscribed(*guest);
  ASSERT_TRUE(watcher.ok());
  auto ws = stack->Connect(*guest);
  ASSERT_TRUE(ws.ok());
  const uint8_t key[4] = {1, 2, 3, 4};
  ASSERT_TRUE((*ws)->SendRaw(ws::EncodeFrame(ws::Opcode::kText, PlaceFrame(5, 5, 5), key) +
                             ws::EncodeCloseFrame(ws::kCloseNormal, "", key))
                  .ok());
  ASSERT_TRUE(FrameWith(**watcher, 5, 5, 5).ok());
  ASSERT_TRUE((*watcher)->SendText(PlaceFrame(5, 6, 6)).ok());
  auto placed = PlaceAnswer(**watcher);
  ASSERT_TRUE(placed.ok());
  EXPECT_EQ(placed->Type(), "placed") << placed->text;
}

TEST_F(BoardCooldownTest, ACooldownRefusalSaysWhenAndASecondIngressEnforcesIt) {
  ASSERT_TRUE(stack->StartIngressProcess({"--board-width", std::to_string(kWidth), "--board-height",
                                          std::to_string(kHeight), "--board-cooldown-ms", "60000"})
                  .ok());
  const int other_port = stack->ingress_process_port();
  auto ana = stack->Register("ana");
  ASSERT_TRUE(ana.ok());
  auto first = Place(*ana, 1, 2, 3);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->status, 202) << first->body;

  auto second = HttpRequest("PUT", "http://127.0.0.1:" + std::to_string(other_port) + "/api/board/pixels",
                            PlaceBody(2, 2, 3), {"Authorization: Bearer " + ana->token});
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->status, 429) << second->body;
  auto j = ParseJson(second->body);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(std::string(j->doc["error"]["code"].GetString()), "rate_limited");
  const int64_t wait = j->doc["error"]["retry_after_ms"].GetInt64();
  EXPECT_GT(wait, 50000);
  EXPECT_LE(wait, 60000);
  EXPECT_EQ(second->headers["retry-after"], std::to_string((wait + 999) / 1000));
  // Another user is not held by ana's cooldown.
  auto bob = stack->Register("bob");
  ASSERT_TRUE(bob.ok());
  EXPECT_EQ(Place(*bob, 2, 2, 3)->status, 202);
}

// The cooldown is the user's, however they place: an HTTP placement holds the socket's back, and a
// socket's holds HTTP's, each refusal saying when to try again.
// Under a cooldown each `place` asks Redis. A socket that never waits out its refusals is held to its
// connection's joins bucket (100/10s), and refused without asking Redis past it.
TEST_F(BoardCooldownTest, ASocketIgnoringItsCooldownIsRefusedLocallyPastItsJoinsBucket) {
  auto guest = stack->Guest();
  ASSERT_TRUE(guest.ok());
  auto ws = stack->Connect(*guest);
  ASSERT_TRUE(ws.ok());
  const auto start = std::chrono::steady_clock::now();
  int asked_redis = 0, refused_here = 0;
  for (int i = 0; i < 130; ++i) {
    ASSERT_TRUE((*ws)->SendText(PlaceFrame(1, 1, 2, "f-" + std::to_string(i))).ok());
    auto a = PlaceAnswer(**ws);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    if (a->Type() == "placed") {
      ++asked_redis;
      continue;
    }
    ASSERT_EQ(std::string(a->doc["code"].GetString()), "rate_limited") << a->text;
    const std::string reason = a->doc["reason"].GetString();
    if (reason.find("per cooldown") != std::string::npos) ++asked_redis;
    else if (reason.find("may ask Redis") != std::string::npos) ++refused_here;
    else ADD_FAILURE() << "an unexpected refusal: " << a->text;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GT(refused_here, 0);
  // The bucket holds 100 and refills 10 a second.
  EXPECT_LE(asked_redis, 100 + static_cast<int>(10 * seconds) + 1) << seconds << " s";
}

TEST_F(BoardCooldownTest, TheCooldownIsSharedByHttpAndSocketPlacements) {
  auto ana = stack->Register("ana");
  auto bob = stack->Register("bob");
  ASSERT_TRUE(ana.ok() && bob.ok());
  auto ana_ws = stack->Connect(*ana);
  auto bob_ws = stack->Connect(*bob);
  ASSERT_TRUE(ana_ws.ok() && bob_ws.ok());

  auto first = Place(*ana, 1, 1, 3);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->status, 202) << first->body;
  ASSERT_TRUE((*ana_ws)->SendText(PlaceFrame(2, 1, 3, "a-2")).ok());
  auto refused = PlaceAnswer(**ana_ws);
  ASSERT_TRUE(refused.ok());
  ASSERT_EQ(refused->Type(), "error") << refused->text;
  EXPECT_EQ(std::string(refused->doc["code"].GetString()), "rate_limited");
  EXPECT_EQ(std::string(refused->doc["client_msg_id"].GetString()), "a-2");
  const int64_t wait = refused->doc["retry_after_ms"].GetInt64();
  EXPECT_GT(wait, 50000);
  EXPECT_LE(wait, 60000);

  ASSERT_TRUE((*bob_ws)->SendText(PlaceFrame(3, 1, 4, "b-1")).ok());
  auto placed = PlaceAnswer(**bob_ws);
  ASSERT_TRUE(placed.ok());
  ASSERT_EQ(placed->Type(), "placed") << placed->text;
  auto second = Place(*bob, 4, 1, 4);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->status, 429) << second->body;
  auto j = ParseJson(second->body);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(std::string(j->doc["error"]["code"].GetString()), "rate_limited");
  EXPECT_GT(j->doc["error"]["retry_after_ms"].GetInt64(), 50000);
  // The socket's own second placement is refused as well.
  ASSERT_TRUE((*bob_ws)->SendText(PlaceFrame(5, 1, 4, "b-2")).ok());
  auto again = PlaceAnswer(**bob_ws);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->Type(), "error") << again->text;
  EXPECT_EQ(std::string(again->doc["code"].GetString()), "rate_limited");
  EXPECT_GT(again->doc["retry_after_ms"].GetInt64(), 0);
}

TEST_F(BoardTest, TheBoardRebuiltFromHistoryEqualsTheLiveBoardAfterABurst) {
  std::vector<TestUser> users;
  for (int i = 0; i < 6; ++i) {
    auto g = stack->Guest();
    ASSERT_TRUE(g.ok());
    users.push_back(*g);
  }
  auto watcher = Subscribed(users[0]);
  ASSERT_TRUE(watcher.ok());
  constexpr int kPerUser = 40;
  std::vector<std::thread> threads;
  std::atomic<int> acked{0};
  std::mutex refused_mu;
  std::string refused;  // the first answer that was not 202, for the failure message
  for (size_t u = 0; u < users.size(); ++u) {
    threads.emplace_back([&, u] {
      for (int i = 0; i < kPerUser; ++i) {
        // Every user paints over the same few pixels: the order decides the board.
        auto r = Place(users[u], (i * 3 + static_cast<int>(u)) % 5, i % 3, (i + static_cast<int>(u)) % 16);
        if (r.ok() && r->status == 202) {
          ++acked;
          continue;
        }
        std::lock_guard<std::mutex> lock(refused_mu);
        if (refused.empty()) refused = r.ok() ? std::to_string(r->status) + " " + r->body : r.status().ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(acked.load(), static_cast<int>(users.size()) * kPerUser) << refused;
  // Each acknowledged placement's wait for Kafka is timed (the ingress runs in this process).
  auto metrics = HttpRequest("GET", stack->Url("/metrics"));
  ASSERT_TRUE(metrics.ok());
  const std::string series = "\nchatpipe_latency_seconds_count{hop=\"place\"} ";
  const size_t at = metrics->body.find(series);
  ASSERT_NE(at, std::string::npos);
  EXPECT_GE(std::stoll(metrics->body.substr(at + series.size())), acked.load());
  ASSERT_TRUE(HistoryReaches(acked.load()));
  // The history's board: each pixel's placement with the highest id.
  auto rows = stack->pg().Exec("SELECT DISTINCT ON (y, x) x, y, color FROM board_placements ORDER BY y, x, id DESC");
  ASSERT_TRUE(rows.ok());
  std::string rebuilt(kWidth * kHeight / 2, '\0');
  for (int r = 0; r < rows->rows(); ++r)
    SetPixel(rebuilt, static_cast<int>(rows->Int(r, 0)), static_cast<int>(rows->Int(r, 1)), static_cast<int>(rows->Int(r, 2)));
  // Redis has it once the worker's last batch is applied (it stores history first): wait for that.
  std::string live;
  EXPECT_TRUE(WaitFor([&] {
    auto b = GetBoard(kNewerThanAny);  // newer than any: always read from Redis
    live = b.ok() ? b->body : "";
    return live == rebuilt;
  }, 30s));
  EXPECT_EQ(live, rebuilt);
  // And so does `chatpipe board export`'s reading of the history, at now.
  BoardConfig board;
  board.width = kWidth;
  board.height = kHeight;
  auto exported = BoardAt(stack->pg(), board, static_cast<int64_t>(NowMs()));
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  EXPECT_EQ(exported->bytes(), live);
}

TEST_F(BoardTest, AClientThatSubscribesDuringABurstEndsWithTheServersBoard) {
  std::vector<TestUser> users;
  for (int i = 0; i < 4; ++i) {
    auto g = stack->Guest();
    ASSERT_TRUE(g.ok());
    users.push_back(*g);
  }
  std::atomic<int> acked{0};
  constexpr int kPerUser = 60;
  std::vector<std::thread> threads;
  for (size_t u = 0; u < users.size(); ++u) {
    threads.emplace_back([&, u] {
      for (int i = 0; i < kPerUser; ++i) {
        auto r = Place(users[u], (i * 7 + static_cast<int>(u) * 3) % kWidth, (i + static_cast<int>(u)) % kHeight,
                       (i * 5 + static_cast<int>(u)) % 16);
        if (r.ok() && r->status == 202) ++acked;
      }
    });
  }
  // Subscribe once the burst is under way, then fetch while it goes on.
  ASSERT_TRUE(WaitFor([&] { return acked.load() >= kPerUser; }, 30s));
  auto ws = stack->Connect(users[0]);
  ASSERT_TRUE(ws.ok());
  ASSERT_TRUE((*ws)->SendText(R"({"type":"board_subscribe"})").ok());
  // Step 1: frames are held from the subscribe on, those before `board_subscribed` too.
  ClientBoard mine;
  std::vector<Json> before;
  auto welcome = ReceiveUntil(**ws, [](const Json& j) { return j.Type() == "board_subscribed"; }, 10s, &before);
  ASSERT_TRUE(welcome.ok());
  for (Json& j : before)
    if (j.Type() == "pixels") mine.held.push_back(std::move(j));
  for (int i = 0; i < 3; ++i) {
    auto text = (*ws)->ReceiveText(200ms);
    if (!text.ok()) break;
    auto j = ParseJson(*text);
    ASSERT_TRUE(j.ok());
    if (j->Type() == "pixels") mine.held.push_back(std::move(*j));
  }
  // Step 2: a board at least as new as the subscription.
  Fetch(mine, welcome->doc["v"].GetInt64());
  if (HasFatalFailure()) return;
  for (auto& t : threads) t.join();
  ASSERT_EQ(acked.load(), static_cast<int>(users.size()) * kPerUser);
  ASSERT_TRUE(HistoryReaches(acked.load()));
  // Then live frames until the client's board is the server's.
  bool same = WaitFor([&] {
    auto text = (*ws)->ReceiveText(200ms);
    if (text.ok()) {
      auto j = ParseJson(*text);
      if (j.ok() && j->Type() == "pixels" && !Apply(mine, *j)) {
        mine.held.push_back(std::move(*j));
        Fetch(mine, mine.held.front().doc["prev"].GetInt64());
      }
    }
    auto server = GetBoard(kNewerThanAny);
    return server.ok() && VersionOf(*server) == mine.version && server->body == mine.bytes;
  }, 30s);
  EXPECT_TRUE(same) << "client at version " << mine.version;
}

}  // namespace
}  // namespace chatpipe::test
