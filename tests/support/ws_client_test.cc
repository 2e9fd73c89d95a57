#include "tests/support/ws_client.h"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>

#include "ingress/http_request.h"
#include "ingress/websocket.h"
#include "tests/support/loopback_server.h"

namespace chatpipe::test {
namespace {

using namespace std::chrono_literals;

// What the fake server saw of the client's close frame.
class CloseLog {
 public:
  void Record(uint16_t code, std::string_view reason) {
    std::lock_guard<std::mutex> lock(mu_);
    code_ = code;
    reason_ = reason;
    cv_.notify_all();
  }
  // Waits for the close frame; returns "code reason", or "none" if it did not come.
  std::string Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, 5s, [this] { return code_ != 0; })) return "none";
    return std::to_string(code_) + " " + reason_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint16_t code_ = 0;
  std::string reason_;
};

// Answers one WebSocket frame event as the fake server; false once the connection should end.
bool Answer(int fd, const ws::Event& ev, CloseLog* log) {
  using Type = ws::Event::Type;
  switch (ev.type) {
    case Type::kText:
      if (ev.payload == "ping-me") return SendAll(fd, ws::EncodeFrame(ws::Opcode::kPing, "probe"));
      if (ev.payload == "close-me") return SendAll(fd, ws::EncodeCloseFrame(4001, "bye"));
      if (ev.payload == "drop-me") return false;  // no close frame: the client sees the TCP close
      return SendAll(fd, ws::EncodeFrame(ws::Opcode::kText, ev.payload));
    case Type::kBinary:
      return SendAll(fd, ws::EncodeFrame(ws::Opcode::kBinary, ev.payload));
    case Type::kPing:
      return SendAll(fd, ws::EncodeFrame(ws::Opcode::kPong, ev.payload));
    case Type::kPong:
      return SendAll(fd, ws::EncodeFrame(ws::Opcode::kText, "pong:" + std::string(ev.payload)));
    case Type::kClose:
      log->Record(ev.close_code, ev.payload);
      SendAll(fd, ws::EncodeCloseFrame(ev.close_code, ""));
      return false;
    case Type::kNone:
      break;
  }
  return true;
}

// A fake ingress: upgrades when ?token=good, greets, then echoes messages and obeys the commands in
// Answer. Protocol errors are answered with the decoder's close code, as ingress would.
void ServeWebSocket(int fd, CloseLog* log) {
  std::string in;
  http::Request request;
  size_t consumed = 0;
  Status error;
  http::ParseResult result;
  while ((result = http::ParseRequest(in, http::Limits(), &request, &consumed, &error)) ==
         http::ParseResult::kIncomplete) {
    if (!RecvSome(fd, &in)) return;
  }
  if (result == http::ParseResult::kError || !ws::CheckUpgradeRequest(request).ok()) {
    SendAll(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    return;
  }
  if (request.QueryParam("token") != "good") {
    SendAll(fd, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 9\r\n\r\nbad token");
    return;
  }
  // The greeting goes out in the same write as the 101, so the client must find it behind the head.
  const std::string* x_test = request.Header("X-Test");
  const std::string greeting = "hello" + (x_test != nullptr ? " x-test=" + *x_test : std::string());
  if (!SendAll(fd, ws::UpgradeResponse(request, "") + ws::EncodeFrame(ws::Opcode::kText, greeting))) return;

  ws::FrameDecoder decoder(ws::Role::kServer, 1 << 20);
  in.erase(0, consumed);
  for (;;) {
    for (size_t pos = 0; pos < in.size();) {
      ws::Event ev;
      pos += decoder.Feed(in.data() + pos, in.size() - pos, &ev);
      if (decoder.failed()) {
        SendAll(fd, ws::EncodeCloseFrame(decoder.error_code(), decoder.error_reason()));
        return;
      }
      if (!Answer(fd, ev, log)) return;
    }
    in.clear();
    if (!RecvSome(fd, &in)) return;
  }
}

class WsClientTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<WsClient>> Connect(const std::string& path = "/ws?token=good",
                                            const std::vector<std::string>& headers = {}) {
    return WsClient::Connect("127.0.0.1", server_.port(), path, headers, 5s);
  }

  CloseLog close_log_;
  LoopbackServer server_{[this](int fd) { ServeWebSocket(fd, &close_log_); }};
};

TEST_F(WsClientTest, TextRoundTrip) {
  auto client = Connect("/ws?token=good", {"X-Test: 42"});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_EQ((*client)->handshake_headers().at("upgrade"), "websocket");
  Result<std::string> greeting = (*client)->ReceiveText(5s);
  ASSERT_TRUE(greeting.ok()) << greeting.status().ToString();
  EXPECT_EQ(*greeting, "hello x-test=42");

  ASSERT_TRUE((*client)->SendText("h\xC3\xA9llo").ok());
  Result<std::string> echo = (*client)->ReceiveText(5s);
  ASSERT_TRUE(echo.ok()) << echo.status().ToString();
  EXPECT_EQ(*echo, "h\xC3\xA9llo");

  const std::string big(200000, 'b');  // 64-bit lengths both ways
  ASSERT_TRUE((*client)->SendText(big).ok());
  echo = (*client)->ReceiveText(5s);
  ASSERT_TRUE(echo.ok()) << echo.status().ToString();
  EXPECT_EQ(*echo, big);
}

TEST_F(WsClientTest, AnswersServerPing) {
  auto client = Connect();
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_TRUE((*client)->ReceiveText(5s).ok());
  ASSERT_TRUE((*client)->SendText("ping-me").ok());
  // The server pings; ReceiveText answers on the way and then gets the server's report of the pong.
  Result<std::string> reply = (*client)->ReceiveText(5s);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, "pong:probe");
}

TEST_F(WsClientTest, CountsPongs) {
  auto client = Connect();
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_TRUE((*client)->ReceiveText(5s).ok());
  ASSERT_TRUE((*client)->SendPing("p").ok());
  ASSERT_TRUE((*client)->SendText("after").ok());
  Result<std::string> reply = (*client)->ReceiveText(5s);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, "after");
  EXPECT_EQ((*client)->pongs_received(), 1);
}

TEST_F(WsClientTest, SurfacesServerClose) {
  auto client = Connect();
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_TRUE((*client)->ReceiveText(5s).ok());
  ASSERT_TRUE((*client)->SendText("close-me").ok());
  Result<std::string> reply = (*client)->ReceiveText(5s);
  EXPECT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().name(), "closed");
  EXPECT_EQ((*client)->close_code(), 4001);
  EXPECT_EQ((*client)->close_reason(), "bye");
  EXPECT_EQ(close_log_.Wait(), "4001 ");  // the client echoed the code
  EXPECT_EQ((*client)->ReceiveText(5s).status().name(), "closed");  // and stays closed
}

TEST_F(WsClientTest, MalformedFrameGetsProtocolError) {
  auto client = Connect();
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_TRUE((*client)->ReceiveText(5s).ok());
  ASSERT_TRUE((*client)->SendRaw(ws::EncodeFrame(ws::Opcode::kText, "not masked")).ok());
  Result<std::string> reply = (*client)->ReceiveText(5s);
  EXPECT_EQ(reply.status().name(), "closed");
  EXPECT_EQ((*client)->close_code(), ws::kCloseProtocolError);
  EXPECT_EQ((*client)->close_reason(), "client frame not masked");
}

TEST_F(WsClientTest, DroppedConnectionIsAbnormalClosure) {
  auto client = Connect();
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_TRUE((*client)->ReceiveText(5s).ok());
  ASSERT_TRUE((*client)->SendText("drop-me").ok());
  EXPECT_EQ((*client)->ReceiveText(5s).status().name(), "closed");
  EXPECT_EQ((*client)->close_code(), 1006);
}

TEST_F(WsClientTest, CloseRunsTheClosingHandshake) {
  auto client = Connect();
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Status s = (*client)->Close(ws::kCloseNormal, "done", 5s);  // the unread greeting is discarded
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ((*client)->close_code(), ws::kCloseNormal);
  EXPECT_EQ(close_log_.Wait(), "1000 done");
  EXPECT_FALSE((*client)->SendText("late").ok());
}

TEST_F(WsClientTest, BinaryIsNotText) {
  auto client = Connect();
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_TRUE((*client)->ReceiveText(5s).ok());
  ASSERT_TRUE((*client)->SendBinary("\x01\x02").ok());
  EXPECT_EQ((*client)->ReceiveText(5s).status().name(), "unexpected_binary");
}

TEST_F(WsClientTest, ReceiveTimesOut) {
  auto client = Connect();
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_TRUE((*client)->ReceiveText(5s).ok());
  const auto start = std::chrono::steady_clock::now();
  Result<std::string> nothing = (*client)->ReceiveText(100ms);
  EXPECT_EQ(nothing.status().name(), "timeout");
  EXPECT_EQ(nothing.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
}

TEST_F(WsClientTest, RefusedUpgradeCarriesHttpStatus) {
  auto client = Connect("/ws?token=bad");
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(client.status().name(), "upgrade_refused");
  EXPECT_EQ(client.status().detail(), "bad token");
}

TEST(WsClientConnect, NothingListening) {
  // A bound socket that does not listen: its port refuses connections and no one else can take it.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  auto client = WsClient::Connect("127.0.0.1", ntohs(addr.sin_port), "/ws", {}, 2s);
  ::close(fd);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().name(), "connect_failed");
}

}  // namespace
}  // namespace chatpipe::test
