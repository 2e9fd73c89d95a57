// Connections over time and in number: a silent WebSocket is pinged and kept while it answers, a dead
// one is closed (with a code) and its presence ends; HTTP requests must arrive in time; a client that
// pipelines requests and reads nothing is not buffered without bound; connections per address, in
// all, and rooms per connection are capped; and accept survives running out of descriptors. Ingress
// runs with small intervals and limits set by flag.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <memory>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/message_id.h"
#include "common/metrics.h"
#include "storage/pg.h"
#include "storage/redis_keys.h"
#include "tests/support/raw_conn.h"
#include "tests/support/stack_test_base.h"

namespace chatpipe::test {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr int kPingMs = 100;
constexpr int kMissedPongs = 2;
const std::string kLivez(RawConn::kLivez);

int64_t MetricValue(const std::string& name) { return Counter(name, "").value(); }

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

// One end of a loopback TCP connection as /proc/net/tcp shows it. The timer's kind is 1 for a
// retransmission, 2 keepalive, 0 none; `due` counts 1/100 s. The queues are bytes: rx what the
// application has not read yet, tx what the peer has not acknowledged yet.
struct KernelSocket {
  bool found = false;
  int timer = -1;
  long due = 0;
  int64_t tx_queue = 0;
  int64_t rx_queue = 0;
};

KernelSocket FindSocket(int local_port, int remote_port) {
  char local[32], remote[32];
  std::snprintf(local, sizeof local, "0100007F:%04X", local_port);
  std::snprintf(remote, sizeof remote, "0100007F:%04X", remote_port);
  std::ifstream in("/proc/net/tcp");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, l, r, state, queues, timer;
    fields >> slot >> l >> r >> state >> queues >> timer;
    if (l != local || r != remote) continue;
    KernelSocket s;
    size_t queue_colon = queues.find(':'), timer_colon = timer.find(':');
    if (queue_colon == std::string::npos || timer_colon == std::string::npos) return s;
    s.found = true;
    s.tx_queue = std::stoll(queues.substr(0, queue_colon), nullptr, 16);
    s.rx_queue = std::stoll(queues.substr(queue_colon + 1), nullptr, 16);
    s.timer = std::stoi(timer.substr(0, timer_colon), nullptr, 16);
    s.due = std::stol(timer.substr(timer_colon + 1), nullptr, 16);
    return s;
  }
  return {};
}

class ConnectionsTest : public StackTest {
 protected:
  void Start(const std::function<void(ConnectionLimits&, IngressConfig&)>& tweak = {}) {
    Status s = stack->StartIngress([&](IngressConfig& c) {
      c.connections.ws_ping_interval_ms = kPingMs;
      c.connections.ws_missed_pongs = kMissedPongs;
      if (tweak) tweak(c.connections, c);
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::string Join(int64_t room) { return "{\"type\":\"join\",\"room\":" + std::to_string(room) + "}"; }
  std::string Leave(int64_t room) { return "{\"type\":\"leave\",\"room\":" + std::to_string(room) + "}"; }

  // Registers ana with three public rooms (their ids to *rooms) and connects her.
  std::unique_ptr<WsClient> AnaInThreeRooms(std::vector<int64_t>* rooms) {
    TestUser ana;
    int64_t first = 0;
    EXPECT_TRUE(RegisterWithRoom("ana", "one", &ana, &first));
    auto second = stack->CreateRoom(ana, "two");
    auto third = stack->CreateRoom(ana, "three");
    EXPECT_TRUE(second.ok() && third.ok());
    auto ws = stack->Connect(ana);
    EXPECT_TRUE(ws.ok()) << ws.status().ToString();
    if (!second.ok() || !third.ok() || !ws.ok()) return nullptr;
    *rooms = {first, *second, *third};
    return std::move(*ws);
  }

  // Connects ana to a room of hers, reads nothing but pings (the client answers them) until `pings`
  // came, every `ping_ms`, then checks that she is still open, in the room and served. Her
  // connection, still open (null if it could not connect), and her id in *user.
  std::unique_ptr<WsClient> IdleAnsweringPings(int ping_ms, int pings, int64_t* user = nullptr) {
    TestUser ana;
    int64_t room = 0;
    EXPECT_TRUE(RegisterWithRoom("ana", "quiet", &ana, &room));
    if (user) *user = ana.id;
    auto ws = stack->Connect(ana);
    EXPECT_TRUE(ws.ok()) << ws.status().ToString();
    if (!ws.ok()) return nullptr;
    EXPECT_TRUE((*ws)->SendText(Join(room)).ok());
    EXPECT_TRUE(ReceiveType(**ws, "joined").ok());
    WaitFor([&](milliseconds left) {
      auto f = (*ws)->ReceiveText(std::min(left, milliseconds(ping_ms / 2)));  // returns on text only
      return (*ws)->pings_received() >= pings || (!f.ok() && f.status().name() == "closed");
    }, std::chrono::seconds(10));
    EXPECT_GE((*ws)->pings_received(), pings);
    EXPECT_EQ((*ws)->close_code(), 0) << (*ws)->close_reason();
    EXPECT_TRUE((*ws)->SendText(Join(room)).ok());
    auto again = ReceiveType(**ws, "error");
    EXPECT_TRUE(again.ok()) << again.status().ToString();
    if (again.ok()) {
      EXPECT_STREQ(again->doc["code"].GetString(), "already_joined");
    }
    return std::move(*ws);
  }

  // How many ingress loops hold `user` online, as the mention worker reads it.
  int64_t OnlineScores(int64_t user) {
    auto r = stack->redis().Command(
        {"ZCOUNT", OnlineKey(stack->config().RedisPrefix(), user), "(" + std::to_string(NowMs()), "+inf"});
    return r.ok() ? r->integer : -1;
  }
};

TEST_F(ConnectionsTest, AnIdleClientThatAnswersPingsStaysConnected) {
  Start();
  // Several intervals, well past the point where a peer that answers none is dropped.
  int64_t ana = 0;
  auto ws = IdleAnsweringPings(kPingMs, 3 * (kMissedPongs + 1), &ana);
  ASSERT_NE(ws, nullptr);
  EXPECT_GT(OnlineScores(ana), 0);  // online while connected
}

// The request deadline its upgrade was read under, and the keep-alive idle time, are no WebSocket's:
// here both are a third of the ping interval, so each silence between a pong and the next ping
// outlasts them.
TEST_F(ConnectionsTest, AWebSocketOutlivesTheHttpDeadlinesOfItsUpgrade) {
  constexpr int kSlowPingMs = 300;
  Start([](ConnectionLimits& l, IngressConfig&) {
    l.ws_ping_interval_ms = kSlowPingMs;
    l.http_request_timeout_ms = kSlowPingMs / 3;
    l.http_idle_timeout_ms = kSlowPingMs / 3;
  });
  IdleAnsweringPings(kSlowPingMs, 4);
}

TEST_F(ConnectionsTest, APeerThatAnswersNoPingIsClosedWithACodeAndItsPresenceEnds) {
  Start();
  TestUser ana;
  int64_t room = 0;
  ASSERT_TRUE(RegisterWithRoom("ana", "watch", &ana, &room));
  auto bea = stack->Register("bea");
  ASSERT_TRUE(bea.ok()) << bea.status().ToString();
  auto watcher = stack->Connect(ana);
  auto gone = stack->Connect(*bea);
  ASSERT_TRUE(watcher.ok() && gone.ok());
  ASSERT_TRUE((*watcher)->SendText(Join(room)).ok());
  ASSERT_TRUE(ReceiveType(**watcher, "joined").ok());
  (*gone)->set_answer_pings(false);
  ASSERT_TRUE((*gone)->SendText(Join(room)).ok());
  ASSERT_TRUE(ReceiveType(**gone, "joined").ok());
  // ana's own join and bea's may come in one presence frame (a loop gathers them for 200 ms).
  auto bea_in = ReceiveUntil(**watcher, [&](const Json& j) {
    if (j.Type() != "presence" || !j.doc.HasMember("joined")) return false;
    for (const auto& who : j.doc["joined"].GetArray())
      if (who["id"].GetInt64() == bea->id) return true;
    return false;
  });
  ASSERT_TRUE(bea_in.ok()) << bea_in.status().ToString();
  EXPECT_GT(OnlineScores(bea->id), 0);

  // bea reads (so it sees the pings and the close) but answers nothing.
  auto end = ReceiveUntil(**gone, [](const Json&) { return false; }, std::chrono::seconds(10));
  ASSERT_EQ(end.status().name(), "closed") << end.status().ToString();
  EXPECT_EQ((*gone)->close_code(), ws::kCloseNoPong) << (*gone)->close_reason();
  EXPECT_EQ((*gone)->pings_received(), kMissedPongs) << "closed after that many unanswered pings, not before";

  // Gone for the room and for the mention worker (offline: its mentions are e-mailed).
  auto bea_out = ReceiveUntil(**watcher, [&](const Json& j) {
    return j.Type() == "presence" && j.doc["left"].Size() == 1 && j.doc["left"][0]["id"].GetInt64() == bea->id;
  });
  ASSERT_TRUE(bea_out.ok()) << bea_out.status().ToString();
  EXPECT_EQ(OnlineScores(bea->id), 0);
  EXPECT_EQ((*watcher)->close_code(), 0) << "the watcher answers its pings and stays";
}

TEST_F(ConnectionsTest, AStoppingServerClosesWebSocketsWith1001) {
  Start();
  auto guest = stack->Guest();
  ASSERT_TRUE(guest.ok()) << guest.status().ToString();
  auto ws = stack->Connect(*guest);
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  stack->StopIngress();
  auto end = (*ws)->ReceiveText(std::chrono::seconds(5));
  ASSERT_EQ(end.status().name(), "closed") << end.status().ToString();
  EXPECT_EQ((*ws)->close_code(), ws::kCloseGoingAway);
  EXPECT_EQ((*ws)->close_reason(), "server shutting down");
}

TEST_F(ConnectionsTest, ARequestThatDoesNotArriveInTimeGets408AndTheConnectionCloses) {
  Start([](ConnectionLimits& l, IngressConfig&) { l.http_request_timeout_ms = 300; });
  RawConn slow(stack->port());
  ASSERT_TRUE(slow.connected());
  ASSERT_TRUE(slow.Send("GET /healthz HTTP/1.1\r\nHost: t\r\n"));
  // Slowloris: a header byte at a time, each well within the deadline of the one before, never the end.
  const auto start = Clock::now();
  bool closed = false;
  WaitFor([&](milliseconds left) {
    if (!slow.Send("X")) return closed = true;
    closed = !slow.ReadFor(std::min(left, milliseconds(50)));
    return closed;
  }, std::chrono::seconds(5));
  EXPECT_TRUE(closed) << "still open after 5 s";
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(slow.in().rfind("HTTP/1.1 408", 0), 0u) << slow.in();
  EXPECT_NE(slow.in().find("request_timeout"), std::string::npos) << slow.in();

  // A connection that sends nothing at all is closed as soon, without an answer.
  RawConn mute(stack->port());
  ASSERT_TRUE(mute.connected());
  const auto opened = Clock::now();
  EXPECT_TRUE(mute.ReadUntil([](const std::string&) { return false; }, std::chrono::seconds(5)));
  EXPECT_TRUE(mute.in().empty()) << mute.in();
  EXPECT_LT(Clock::now() - opened, std::chrono::seconds(2));

  // A request that arrives whole is answered, and the connection then lives until its idle timeout.
  RawConn quick(stack->port());
  EXPECT_TRUE(quick.Healthy());
  EXPECT_TRUE(quick.Healthy());
}

TEST_F(ConnectionsTest, AnIdleKeepAliveConnectionIsClosed) {
  Start([](ConnectionLimits& l, IngressConfig&) { l.http_idle_timeout_ms = 300; });
  RawConn idle(stack->port());
  // Before the request: the server's idle time starts after it, so no close can come sooner than
  // 300 ms from here, however late this thread reads the answer.
  const auto start = Clock::now();
  ASSERT_TRUE(idle.Healthy());
  idle.in().clear();
  EXPECT_TRUE(idle.ReadUntil([](const std::string&) { return false; }, std::chrono::seconds(5)));
  EXPECT_TRUE(idle.in().empty()) << idle.in();
  EXPECT_GE(Clock::now() - start, milliseconds(250));
}

// The server's end of a client connection has TCP keepalive as --tcp-keepalive-idle-s says (0: none).
TEST_F(ConnectionsTest, AcceptedSocketsHaveTcpKeepaliveAsConfigured) {
  for (int idle_s : {7, 0}) {
    stack->StopIngress();
    Start([idle_s](ConnectionLimits& l, IngressConfig&) { l.tcp_keepalive_idle_s = idle_s; });
    RawConn conn(stack->port());
    ASSERT_TRUE(conn.Healthy());  // accepted and answered: its options are set
    // Until the client's ACK of the answer arrives the kernel shows the retransmission timer instead.
    KernelSocket server;
    ASSERT_TRUE(WaitFor([&] {
      server = FindSocket(stack->port(), conn.local_port());
      return server.timer == 0 || server.timer == 2;
    })) << "timer kind " << server.timer;
    if (idle_s == 0) {
      EXPECT_EQ(server.timer, 0) << "no keepalive timer with --tcp-keepalive-idle-s 0";
      continue;
    }
    EXPECT_EQ(server.timer, 2) << "keepalive";
    EXPECT_GT(server.due, 0);
    EXPECT_LE(server.due, idle_s * 100) << "due within the idle time set, not the default 60 s";
  }
}

// Once upgraded, a socket has pings and no keepalive timer: here keepalive is due in 7 s, and a
// WebSocket's pings at kPingMs keep the kernel's timer on the socket a retransmission one at most.
TEST_F(ConnectionsTest, AWebSocketHasPingsAndNoTcpKeepalive) {
  Start([](ConnectionLimits& l, IngressConfig&) { l.tcp_keepalive_idle_s = 7; });
  TestUser ana;
  int64_t room = 0;
  ASSERT_TRUE(RegisterWithRoom("ana", "quiet", &ana, &room));
  auto ws = stack->Connect(ana);
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  KernelSocket server;
  ASSERT_TRUE(WaitFor([&](milliseconds left) {
    (void)(*ws)->ReceiveText(std::min(left, milliseconds(kPingMs / 2)));  // answers pings
    server = FindSocket(stack->port(), (*ws)->local_port());
    return (*ws)->pings_received() >= 2 && (server.timer == 0 || server.timer == 2);
  }, std::chrono::seconds(10))) << "timer kind " << server.timer << ", pings " << (*ws)->pings_received();
  EXPECT_EQ(server.timer, 0) << "a keepalive timer on a WebSocket";
  EXPECT_EQ((*ws)->close_code(), 0);
}

// A client that sends the same request over and over on one connection and reads no answer until
// told to, with what the kernel and the server make of it.
class Pipeliner {
 public:
  Pipeliner(int port, std::string request) : port_(port), request_(std::move(request)), conn_(port, 4096) {
    for (int i = 0; i < 256; ++i) batch_ += request_;
  }
  bool connected() const { return conn_.connected(); }
  size_t sent() const { return sent_; }

  // Sends until the kernel takes no more, going on from where a partial send stopped.
  void SendUntilBlocked() {
    for (size_t n = 1; n > 0;) sent_ += n = conn_.SendSome(std::string_view(batch_).substr(sent_ % batch_.size()));
  }

  // Once nothing moves (no answer, no byte between the two ends) while the client sends what it can:
  // the bytes of requests the server has read and not answered. `answered` counts the answers.
  struct Standstill {
    bool reached = false;
    int64_t answered = 0;
    int64_t unread = 0;  // waiting in the kernel
    int64_t held = 0;    // read by the server, not answered yet
  };
  Standstill WaitForStandstill(const std::function<int64_t()>& answered) {
    Standstill now;
    KernelSocket server, client;
    // Nothing may move for longer than a delayed ACK (40 ms on loopback), or a client whose small
    // send buffer waits for one reads as stopped while the server still reads and answers.
    constexpr auto kQuiet = std::chrono::milliseconds(300);
    auto quiet_since = Clock::now();
    now.reached = WaitFor([&] {
      const KernelSocket server_was = server, client_was = client;
      const int64_t answered_was = now.answered;
      SendUntilBlocked();
      now.answered = answered();
      server = FindSocket(port_, conn_.local_port());
      client = FindSocket(conn_.local_port(), port_);
      // Both ends must be seen: /proc/net/tcp is read in pieces and may skip a line while other
      // tests open and close sockets, and a skipped client would read as an empty queue.
      const bool still = server.found && client.found && now.answered == answered_was &&
                         server.rx_queue == server_was.rx_queue && client.tx_queue == client_was.tx_queue;
      if (!still) quiet_since = Clock::now();
      return still && Clock::now() - quiet_since >= kQuiet;
    }, std::chrono::seconds(10));
    // Bytes the server took but the client has no acknowledgement of yet count twice: `held` errs low.
    now.unread = server.rx_queue + client.tx_queue;
    now.held = static_cast<int64_t>(sent_) - now.answered * static_cast<int64_t>(request_.size()) - now.unread;
    return now;
  }

  // Completes the request cut last, then reads until every request is answered `answer` (or 60 s
  // pass, or the server closes): the number of requests sent and of answers.
  std::pair<size_t, size_t> ReadAllAnswers(const std::string& answer) {
    std::string tail = request_.substr(sent_ % request_.size());
    if (tail.size() == request_.size()) tail.clear();
    const size_t requests = (sent_ + tail.size()) / request_.size();
    size_t answers = 0;
    bool closed = conn_.ReadUntil([&](const std::string& in) {
      if (!tail.empty()) tail.erase(0, conn_.SendSome(tail));
      answers += Count(in, answer);
      // Keep what could be the start of an answer cut by the read; it holds no whole one.
      conn_.in().erase(0, in.size() - std::min(in.size(), answer.size() - 1));
      return answers >= requests;
    }, std::chrono::seconds(60));
    EXPECT_FALSE(closed);
    return {requests, answers};
  }

 private:
  int port_;
  std::string request_, batch_;
  RawConn conn_;
  size_t sent_ = 0;
};

// The most request input the server holds for a connection: the largest request it takes (16 KiB
// of head, 64 KiB of body).
constexpr int64_t kMaxHeldRequestBytes = (16 + 64) << 10;

TEST_F(ConnectionsTest, PipelinedRequestsFromANonReaderWaitInTheSocketNotInTheServer) {
  Start([](ConnectionLimits&, IngressConfig& c) { c.max_output_bytes = 64 << 10; });
  const int64_t pauses = MetricValue("chatpipe_ingress_http_output_pauses_total");
  const int64_t answered_before = MetricValue("chatpipe_ingress_http_requests_total");
  Pipeliner greedy(stack->port(), kLivez);
  ASSERT_TRUE(greedy.connected());
  // Requests, never reading an answer, until the server stops reading them.
  ASSERT_TRUE(WaitFor([&] {
    greedy.SendUntilBlocked();
    return MetricValue("chatpipe_ingress_http_output_pauses_total") > pauses;
  }, std::chrono::seconds(20))) << "the server never paused; sent " << greedy.sent() << " bytes";

  // Paused, it answers nothing more however much the client sends: the rest waits in the kernel.
  auto still = greedy.WaitForStandstill(
      [&] { return MetricValue("chatpipe_ingress_http_requests_total") - answered_before; });
  ASSERT_TRUE(still.reached) << "answered " << still.answered << ", in the kernel " << still.unread;
  EXPECT_GT(still.unread, 0) << "the server read everything it was sent: sent " << greedy.sent() << ", answered "
                             << still.answered << ", held " << still.held;
  EXPECT_LE(still.held, kMaxHeldRequestBytes);

  // Reading, the client gets every answer in turn: the server took up the rest as its output drained.
  auto [requests, answers] = greedy.ReadAllAnswers("HTTP/1.1 200");
  EXPECT_EQ(answers, requests);
  EXPECT_GT(requests, static_cast<size_t>(still.answered)) << "nothing was held back";
}

// A signed-in request is answered asynchronously (after Redis and PostgreSQL), and the server reads
// again after each answer; it used to read 64 KiB each time, holding megabytes of a fast pipeliner's
// requests. It reads now only up to the largest request it takes.
TEST_F(ConnectionsTest, PipelinedRequestsAnsweredOneByOneAreReadNoFasterThanAnswered) {
  Start();
  auto guest = stack->Guest();
  ASSERT_TRUE(guest.ok()) << guest.status().ToString();
  const int64_t answered_before = MetricValue("chatpipe_ingress_http_requests_total");
  auto answered = [&] { return MetricValue("chatpipe_ingress_http_requests_total") - answered_before; };
  Pipeliner greedy(stack->port(), "GET /api/users/me HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + guest->token + "\r\n\r\n");
  ASSERT_TRUE(greedy.connected());
  ASSERT_TRUE(WaitFor([&] {
    greedy.SendUntilBlocked();
    return answered() >= 200;
  }, std::chrono::seconds(30))) << "answered " << answered();

  // Holding the users table stops the server at its next request, so what it holds can be counted.
  PgConn locker(stack->config().pg_conninfo);
  ASSERT_TRUE(locker.ExecScript("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE").ok());
  auto still = greedy.WaitForStandstill(answered);
  ASSERT_TRUE(still.reached) << "answered " << still.answered << ", in the kernel " << still.unread;
  EXPECT_GT(still.unread, 0) << "the server read everything it was sent: sent " << greedy.sent() << ", answered "
                             << still.answered << ", held " << still.held;
  EXPECT_LE(still.held, kMaxHeldRequestBytes);
  ASSERT_TRUE(locker.ExecScript("COMMIT").ok());

  auto [requests, answers] = greedy.ReadAllAnswers("HTTP/1.1 200");
  EXPECT_EQ(answers, requests);
}

// Open connections until `limit` are healthy; the next is refused at once (closed without an answer).
// Then one closes, and a new one is taken again.
void ExpectCap(int port, int limit) {
  std::vector<std::unique_ptr<RawConn>> open;
  for (int i = 0; i < limit; ++i) {
    open.push_back(std::make_unique<RawConn>(port));
    ASSERT_TRUE(open.back()->Healthy()) << "connection " << i + 1 << " of " << limit;
  }
  RawConn over(port);
  EXPECT_TRUE(over.RefusedWithin(std::chrono::seconds(5))) << over.in();
  open.pop_back();
  // The server notices the close on its next read: until then a new connection is still refused.
  EXPECT_TRUE(WaitFor([&] { return RawConn(port).Healthy(); }, std::chrono::seconds(5)));
}

TEST_F(ConnectionsTest, ConnectionsPerAddressAreCapped) {
  Start([](ConnectionLimits& l, IngressConfig&) { l.max_connections_per_address = 3; });
  const int64_t refused = MetricValue("chatpipe_ingress_refused_connections_total");
  ExpectCap(stack->port(), 3);
  EXPECT_GT(MetricValue("chatpipe_ingress_refused_connections_total"), refused);
}

TEST_F(ConnectionsTest, ConnectionsInAllAreCapped) {
  Start([](ConnectionLimits& l, IngressConfig&) {
    l.max_connections = 4;
    l.max_connections_per_address = 0;
  });
  ExpectCap(stack->port(), 4);
}

TEST_F(ConnectionsTest, RoomsPerConnectionAreCapped) {
  Start([](ConnectionLimits& l, IngressConfig&) { l.max_rooms_per_connection = 2; });
  std::vector<int64_t> rooms;
  auto ws = AnaInThreeRooms(&rooms);
  ASSERT_TRUE(ws);
  for (int64_t room : {rooms[0], rooms[1]}) {
    ASSERT_TRUE(ws->SendText(Join(room)).ok());
    ASSERT_TRUE(ReceiveType(*ws, "joined").ok());
  }
  ASSERT_TRUE(ws->SendText(Join(rooms[2])).ok());
  auto refused = ReceiveType(*ws, "error");
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_STREQ(refused->doc["code"].GetString(), "too_many_rooms");
  // Leaving one makes room.
  ASSERT_TRUE(ws->SendText(Leave(rooms[0])).ok());
  ASSERT_TRUE(ws->SendText(Join(rooms[2])).ok());
  auto joined = ReceiveType(*ws, "joined");
  ASSERT_TRUE(joined.ok()) << joined.status().ToString();
  EXPECT_EQ(joined->doc["room"].GetInt64(), rooms[2]);
}

TEST_F(ConnectionsTest, ALoopUnsubscribesTheRoomsEmptyLongestBeyondTheIdleLimit) {
  Start([](ConnectionLimits& l, IngressConfig&) {
    l.max_idle_rooms = 1;
    l.ws_ping_interval_ms = 60000;  // the test waits without reading: no pings to answer meanwhile
  });
  ASSERT_TRUE(stack->StartPersister().ok());
  std::vector<int64_t> rooms;
  auto ws = AnaInThreeRooms(&rooms);
  ASSERT_TRUE(ws);
  const int64_t a = rooms[0], b = rooms[1], c = rooms[2];
  auto subscribers = [&](int64_t room) {
    auto r = stack->redis().Command({"PUBSUB", "NUMSUB", RoomChannel(stack->config().RedisPrefix(), room)});
    return r.ok() && r->elements.size() == 2 ? r->elements[1].integer : -1;
  };
  auto visit = [&](int64_t room) {
    ASSERT_TRUE(ws->SendText(Join(room)).ok());
    ASSERT_TRUE(ReceiveType(*ws, "joined").ok());
    ASSERT_TRUE(ws->SendText(Leave(room)).ok());
  };
  visit(a);
  visit(b);  // two rooms empty: a, empty longest, goes
  EXPECT_TRUE(WaitFor([&] { return subscribers(a) == 0; }, std::chrono::seconds(5)));
  EXPECT_EQ(subscribers(b), 1);
  visit(c);  // b goes; joining it again at once waits for the UNSUBSCRIBE, then subscribes anew
  ASSERT_TRUE(ws->SendText(Join(b)).ok());
  ASSERT_TRUE(ReceiveType(*ws, "joined").ok());
  EXPECT_EQ(subscribers(b), 1);
  EXPECT_EQ(subscribers(c), 1) << "the one room empty within the limit stays subscribed";
  ASSERT_TRUE(ws->SendText("{\"type\":\"send\",\"room\":" + std::to_string(b) + ",\"text\":\"back\"}").ok());
  auto live = ReceiveType(*ws, "message");
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  EXPECT_STREQ(live->doc["text"].GetString(), "back");
}

TEST_F(ConnectionsTest, AUserChannelIsUnsubscribedWhenTheUsersLastConnectionGoes) {
  Start();
  auto ana = stack->Register("ana");
  ASSERT_TRUE(ana.ok()) << ana.status().ToString();
  const std::string channel = stack->config().RedisPrefix() + "user:" + std::to_string(ana->id);
  auto subscribers = [&] {
    auto r = stack->redis().Command({"PUBSUB", "NUMSUB", channel});
    return r.ok() && r->elements.size() == 2 ? r->elements[1].integer : -1;
  };
  auto first = stack->Connect(*ana);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(WaitFor([&] { return subscribers() == 1; }));
  first->reset();  // ana's only connection goes: her channel with it
  ASSERT_TRUE(WaitFor([&] { return subscribers() == 0; })) << "the channel outlived its last connection";
  // Back again (at once, while the UNSUBSCRIBE may still be unconfirmed): subscribed, and served.
  auto again = stack->Connect(*ana);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_TRUE(WaitFor([&] { return subscribers() == 1; }));
  ASSERT_TRUE(stack->redis().Command({"PUBLISH", channel, "{\"type\":\"notification\",\"probe\":1}"}).ok());
  auto frame = ReceiveType(**again, "notification");
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  EXPECT_EQ(frame->doc["probe"].GetInt(), 1);
}

TEST_F(ConnectionsTest, AcceptRecoversOnceDescriptorsAreBackAfterRunningOut) {
  // An ingress child with few descriptors, and no connection cap to stop short of them.
  const int port = FreeLoopbackPort();
  std::vector<std::string> args = stack->IngressProcessArgs(
      {"--port", std::to_string(port), "--threads", "1", "--db-threads", "1", "--max-connections", "1000000",
       "--max-connections-per-address", "0"});
  std::vector<std::string> argv = {"/bin/sh", "-c", "ulimit -n 128 && exec \"$0\" \"$@\""};
  argv.insert(argv.end(), args.begin(), args.end());
  auto child = ChildProcess::Spawn(argv);
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  ASSERT_TRUE(WaitFor([&] { return RawConn(port).Healthy(); }, std::chrono::seconds(20))) << "ingress did not start";

  std::vector<std::unique_ptr<RawConn>> open;
  bool refused = false;
  while (!refused && open.size() < 200) {
    auto c = std::make_unique<RawConn>(port);
    if (c->Healthy()) {
      open.push_back(std::move(c));
      continue;
    }
    // Out of descriptors, the server must end the connection rather than leave it hanging.
    refused = c->RefusedWithin(std::chrono::seconds(5)) || c->in().empty();
    ASSERT_TRUE(c->in().empty()) << c->in();
  }
  ASSERT_TRUE(refused) << "200 connections and no refusal: the descriptor limit did not apply";
  EXPECT_GT(open.size(), 20u);
  RawConn shed(port);
  EXPECT_TRUE(shed.RefusedWithin(std::chrono::seconds(5))) << "a connection hung instead of being shed";
  // Some close; new connections are served again, and those still open still are.
  open.resize(open.size() - 10);
  EXPECT_TRUE(WaitFor([&] { return RawConn(port).Healthy(); }, std::chrono::seconds(5)));
  EXPECT_TRUE(open.front()->Healthy());
  child->get()->Signal(SIGTERM);
  EXPECT_EQ(child->get()->Wait(std::chrono::seconds(15)), 0);
}

}  // namespace
}  // namespace chatpipe::test
