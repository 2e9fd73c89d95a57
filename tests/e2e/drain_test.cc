// Graceful drain on SIGTERM (ingress, Loop::Drain): the listeners close at once; an HTTP request in
// flight is answered with Connection: close and idle keep-alive connections end; every frame a client
// sent gets an ack or an error before its WebSocket closes with 1012; whatever was acknowledged is
// stored; the process exits 0 well within --drain-timeout-ms. And with two ingress processes on one
// port (SO_REUSEPORT), a client that reconnects on 1012 loses nothing across the restart of one: every
// message stored once and delivered once to a subscriber on the other.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tests/support/raw_conn.h"
#include "tests/support/stack_test_base.h"

namespace chatpipe::test {
namespace {

using namespace std::chrono_literals;

std::string SendFrame(int64_t room, const std::string& client_msg_id) {
  return "{\"type\":\"send\",\"room\":" + std::to_string(room) + ",\"text\":\"m " + client_msg_id +
         "\",\"client_msg_id\":\"" + client_msg_id + "\"}";
}

Status JoinRoom(WsClient& ws, int64_t room) {
  if (Status s = ws.SendText("{\"type\":\"join\",\"room\":" + std::to_string(room) + "}"); !s.ok()) return s;
  return ReceiveType(ws, "joined").status();
}

bool Refused(int port) { return !RawConn(port).connected(); }

class DrainTest : public StackTest {
 protected:
  void SetUp() override {
    StackTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(stack->StartPersister().ok());
  }

  // An ingress child on `port`; its instance id once it answers.
  std::unique_ptr<ChildProcess> StartIngress(int port) {
    auto child = ChildProcess::Spawn(stack->IngressProcessArgs(
        {"--port", std::to_string(port), "--threads", "2", "--drain-timeout-ms", "8000", "--limit-sends-per-user",
         "off", "--limit-sends-per-connection", "off"}));
    EXPECT_TRUE(child.ok()) << child.status().ToString();
    if (!child.ok()) return nullptr;
    EXPECT_TRUE(WaitFor([&] { return RawConn(port).Healthy(); }, 30s)) << "no ingress answers";
    return std::move(*child);
  }

  Result<std::unique_ptr<WsClient>> Connect(int port, const TestUser& user) {
    return WsClient::Connect("127.0.0.1", static_cast<uint16_t>(port), "/ws", {"Authorization: Bearer " + user.token});
  }
};

TEST_F(DrainTest, SigtermAnswersEverythingInFlightClosesWebSocketsWith1012AndExits0) {
  ASSERT_TRUE(stack->StartIngressProcess({"--drain-timeout-ms", "8000"}).ok());
  ChildProcess* ingress = stack->ingress_process();
  const int port = stack->ingress_process_port();
  auto ana = stack->Register("ana");
  ASSERT_TRUE(ana.ok()) << ana.status().ToString();
  auto room = stack->CreateRoom(*ana, "general");
  ASSERT_TRUE(room.ok()) << room.status().ToString();

  constexpr int kClients = 3, kEach = 30;  // under the 100 sends per 10 s a user may make
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    auto ws = stack->Connect(*ana);
    ASSERT_TRUE(ws.ok()) << ws.status().ToString();
    ASSERT_TRUE(JoinRoom(**ws, *room).ok());
    clients.push_back(std::move(*ws));
  }
  RawConn idle(port);  // keep-alive, between requests
  ASSERT_TRUE(idle.Healthy());
  RawConn busy(port);  // a request half sent when the drain starts
  ASSERT_TRUE(busy.Send("GET /livez HTTP/1.1\r\nHost: x\r\n"));  // live while draining (not ready)

  // Frames in flight, then SIGTERM while they are.
  for (int n = 0; n < kEach; ++n)
    for (int i = 0; i < kClients; ++i)
      ASSERT_TRUE(clients[i]->SendText(SendFrame(*room, std::to_string(i) + "-" + std::to_string(n))).ok());
  const auto signalled = std::chrono::steady_clock::now();
  ingress->Signal(SIGTERM);
  ASSERT_TRUE(WaitFor([&] { return Refused(port); }, 5s)) << "the listeners stayed open";

  // The request in flight is answered, with Connection: close, and the connection ends.
  ASSERT_TRUE(busy.Send("\r\n"));
  bool closed = busy.ReadUntil([](const std::string&) { return false; }, 5s);
  EXPECT_TRUE(closed) << "the connection stayed open after its answer";
  EXPECT_EQ(busy.in().rfind("HTTP/1.1 200", 0), 0u) << busy.in();
  EXPECT_NE(busy.in().find("Connection: close\r\n"), std::string::npos) << busy.in();
  EXPECT_TRUE(idle.ReadUntil([](const std::string&) { return false; }, 5s)) << "an idle keep-alive connection stayed";

  // Every frame answered (ack or error) before the 1012.
  std::set<std::string> acked, answered;
  for (auto& ws : clients) {
    for (;;) {
      auto text = ws->ReceiveText(10s);
      if (!text.ok()) {
        EXPECT_EQ(text.status().name(), "closed") << text.status().ToString();
        break;
      }
      auto f = ParseJson(*text);
      ASSERT_TRUE(f.ok());
      if (f->Type() != "ack" && f->Type() != "error") continue;
      ASSERT_TRUE(f->doc.HasMember("client_msg_id")) << f->text;
      std::string id = f->doc["client_msg_id"].GetString();
      EXPECT_TRUE(answered.insert(id).second) << "answered twice: " << id;
      if (f->Type() == "ack") acked.insert(id);
      else EXPECT_EQ(std::string(f->doc["code"].GetString()), "draining") << f->text;
    }
    EXPECT_EQ(ws->close_code(), ws::kCloseServiceRestart) << ws->close_reason();
  }
  EXPECT_EQ(answered.size(), size_t{kClients * kEach}) << "frames went unanswered";
  EXPECT_GT(acked.size(), 0u);
  EXPECT_EQ(ingress->Wait(8s), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, 8s) << "the drain ran into its deadline";

  // What was acknowledged is stored.
  int64_t stored = 0;
  EXPECT_TRUE(WaitFor([&] {
    auto n = stack->CountMessages(*room);
    stored = n.ok() ? *n : -1;
    return stored == static_cast<int64_t>(acked.size());
  })) << stored << " stored, " << acked.size() << " acknowledged";
}

TEST_F(DrainTest, RestartingOneOfTwoIngressesOnAPortLosesAndDuplicatesNothing) {
  const int port = FreeLoopbackPort();
  ASSERT_TRUE(stack->StartIngress().ok());  // a third, on a port of its own, for the API calls
  std::unique_ptr<ChildProcess> a = StartIngress(port);
  ASSERT_TRUE(a);
  auto ana = stack->Register("ana"), bea = stack->Register("bea");
  ASSERT_TRUE(ana.ok() && bea.ok());
  auto room = stack->CreateRoom(*ana, "general");
  ASSERT_TRUE(room.ok()) << room.status().ToString();
  // The sender on A (the only one yet), the subscriber on B.
  auto sender = Connect(port, *ana);
  ASSERT_TRUE(sender.ok()) << sender.status().ToString();
  ASSERT_TRUE(JoinRoom(**sender, *room).ok());
  const std::string a_id = (*sender)->handshake_headers().at("x-instance-id");
  std::unique_ptr<ChildProcess> b = StartIngress(port);
  ASSERT_TRUE(b);
  // B answers once it listens (A answered the check above); the kernel spreads connections over both.
  std::unique_ptr<WsClient> subscriber;
  WaitFor([&] {
    auto ws = Connect(port, *bea);
    if (ws.ok() && (*ws)->handshake_headers().at("x-instance-id") != a_id) subscriber = std::move(*ws);
    return subscriber != nullptr;
  }, 30s);
  ASSERT_TRUE(subscriber) << "every connection reached A";
  ASSERT_TRUE(JoinRoom(*subscriber, *room).ok());

  // Windows of sends; on 1012 the sender reconnects (to B) at once and sends again what was refused.
  constexpr int kMessages = 300, kWindow = 10;
  std::unique_ptr<WsClient> ws = std::move(*sender);
  std::set<int> acked;
  std::vector<int> todo;
  for (int i = kMessages - 1; i >= 0; --i) todo.push_back(i);
  bool signalled = false;
  int reconnects = 0;
  while (!todo.empty()) {
    std::set<int> window;
    while (!todo.empty() && window.size() < kWindow) {
      window.insert(todo.back());
      ASSERT_TRUE(ws->SendText(SendFrame(*room, std::to_string(todo.back()))).ok());
      todo.pop_back();
    }
    if (!signalled && acked.size() >= kMessages / 3) {
      a->Signal(SIGTERM);
      signalled = true;
    }
    while (!window.empty()) {
      auto text = ws->ReceiveText(10s);
      ASSERT_TRUE(text.ok()) << text.status().ToString() << " with " << window.size() << " unanswered";
      auto f = ParseJson(*text);
      ASSERT_TRUE(f.ok());
      if (f->Type() != "ack" && f->Type() != "error") continue;
      int n = std::stoi(f->doc["client_msg_id"].GetString());
      window.erase(n);
      if (f->Type() == "ack") acked.insert(n);
      else todo.push_back(n);
    }
    if (signalled && reconnects == 0) {
      // A closes this connection once its answers are out: wait for the 1012, then go to B.
      auto end = ReceiveUntil(*ws, [](const Json&) { return false; }, 10s);
      ASSERT_EQ(ws->close_code(), ws::kCloseServiceRestart) << end.status().ToString();
      auto again = Connect(port, *ana);
      ASSERT_TRUE(again.ok()) << again.status().ToString();
      ASSERT_TRUE(JoinRoom(**again, *room).ok());
      ws = std::move(*again);
      ++reconnects;
    }
  }
  EXPECT_EQ(acked.size(), size_t{kMessages});
  EXPECT_EQ(a->Wait(10s), 0);
  ASSERT_TRUE(b->Running());

  // Delivered once each to the subscriber on B, and stored once each.
  std::map<std::string, int> seen;
  while (seen.size() < kMessages) {
    auto f = ReceiveType(*subscriber, "message", 10s);
    ASSERT_TRUE(f.ok()) << f.status().ToString() << " after " << seen.size() << " messages";
    ++seen[f->doc["text"].GetString()];
  }
  for (const auto& [text, times] : seen) EXPECT_EQ(times, 1) << text;
  EXPECT_FALSE(ReceiveType(*subscriber, "message", 300ms).ok()) << "a message was delivered twice";
  EXPECT_TRUE(WaitFor([&] {
    auto n = stack->CountMessages(*room);
    return n.ok() && *n == kMessages;
  })) << "not every message stored once";
}

}  // namespace
}  // namespace chatpipe::test
