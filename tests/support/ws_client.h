// WsClient: a blocking WebSocket client for end-to-end tests, built on the ingress codec.
//
// One thread drives it. Every wait is a poll() against a deadline, so a test fails with a timeout
// Status instead of hanging, and nothing sleeps. It owns its socket (closed by the destructor) and a
// buffer of bytes read but not yet decoded. Frames it sends are masked with a fresh random key, as
// RFC 6455 requires of clients; SendRaw sends bytes untouched, for malformed-frame tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "ingress/websocket.h"
#include "tests/support/local_port.h"

namespace chatpipe::test {

class WsClient {
 public:
  // Connects and performs the opening handshake. extra_headers are full lines without CRLF
  // ("Authorization: Bearer x"). If the server answers anything but 101, the Status carries that
  // answer's HTTP status (so a refused upgrade reads as 401, 403, ...), code "upgrade_refused" and the
  // response body as reason. A failure to connect is 503 "connect_failed"; running out of time is 408
  // "timeout".
  static Result<std::unique_ptr<WsClient>> Connect(const std::string& host, uint16_t port,
                                                   const std::string& path_and_query,
                                                   const std::vector<std::string>& extra_headers = {},
                                                   std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  Status SendText(std::string_view text);
  Status SendBinary(std::string_view data);
  Status SendPing(std::string_view data);
  Status SendRaw(std::string_view bytes);

  // The next text message. Pings are answered (unless set_answer_pings(false): a peer that is gone
  // without a word) and counted, and pongs counted, on the way. Fails with 408 "timeout",
  // with "closed" once the server closed (close_code() and close_reason() tell how), with
  // "unexpected_binary" for a binary message, and with "protocol_error" if the server broke RFC 6455.
  Result<std::string> ReceiveText(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Starts the closing handshake and waits (up to timeout) for the server's close frame, discarding
  // messages still in flight; then closes the socket. Ok if the server answered the close.
  Status Close(uint16_t code = ws::kCloseNormal, std::string_view reason = "",
               std::chrono::milliseconds timeout = std::chrono::seconds(2));

  // The 101 response's headers, by lower-case name.
  const std::map<std::string, std::string>& handshake_headers() const { return handshake_headers_; }
  // Set once the server's close frame arrived: its code (ws::kCloseNoStatus if it had none) and
  // reason; 1006 (abnormal closure) if the connection ended without one.
  uint16_t close_code() const { return close_code_; }
  const std::string& close_reason() const { return close_reason_; }
  int pongs_received() const { return pongs_; }
  int pings_received() const { return pings_; }
  void set_answer_pings(bool answer) { answer_pings_ = answer; }
  // The client end's port, to find the connection in /proc/net/tcp.
  int local_port() const { return LocalPort(fd_); }

 private:
  using Clock = std::chrono::steady_clock;
  explicit WsClient(int fd);

  void NewMask(uint8_t mask[4]);
  Status SendFrame(ws::Opcode opcode, std::string_view payload);
  Status SendClose(uint16_t code, std::string_view reason);
  // Reads until the decoder yields an event or the deadline passes.
  Status NextEvent(Clock::time_point deadline, ws::Event* event);

  int fd_;
  std::mt19937 rng_;
  std::map<std::string, std::string> handshake_headers_;  // lower-case names
  ws::FrameDecoder decoder_{ws::Role::kClient, 16 << 20};
  std::string pending_;  // received, not yet fed to the decoder
  size_t pending_pos_ = 0;
  bool close_sent_ = false;
  uint16_t close_code_ = 0;
  std::string close_reason_;
  int pongs_ = 0;
  int pings_ = 0;
  bool answer_pings_ = true;
};

}  // namespace chatpipe::test
