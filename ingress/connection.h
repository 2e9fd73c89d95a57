// Connection: one client socket on one loop, as an explicit state machine.
//
//   kHttp ──(GET /ws, valid token)──▶ kWebSocket ──(close frame, error)──▶ kClosing ──(flushed)──▶ freed
//     └──────────(Connection: close, bad request)────────────────────────▶ kClosing
//
// In kHttp it parses pipelined requests one at a time: while a request waits for an asynchronous
// answer (database, Redis, Kafka) reading pauses, so responses go out in order. In kWebSocket it
// decodes frames and hands each text message to the WebSocket session code.
//
// memcached's shape, kept small because most connections sit idle: one read event embedded in the
// connection, reads into the loop's shared buffer (an HTTP request's unparsed bytes are kept, a
// WebSocket's partial frame lives in its decoder), and an output buffer lent by the loop only while
// there is output. Output is corked: it is appended during the iteration and the loop's
// end-of-iteration flush writes it in one direct write (Uncork). Only when the socket does not take
// everything does the connection get a write event, until the rest has drained. The Loop owns
// connections; asynchronous callbacks keep only the id and look the connection up again, so a
// connection closed meanwhile is simply not found.
#pragma once

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/token.h"
#include "ingress/http_request.h"
#include "ingress/rate_limits.h"
#include "ingress/room_hub.h"
#include "ingress/websocket.h"

namespace chatpipe {

class Loop;
class SharedFrame;

class Connection {
 public:
  enum class State : uint8_t { kHttp, kWebSocket, kClosing };

  Connection(Loop* loop, uint64_t id, int fd);  // takes the socket
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  uint64_t id() const { return id_; }
  Loop& loop() { return *loop_; }
  State state() const { return state_; }

  // HTTP: answers the request being served, then reads the next one. Every answer carries
  // kSecurityHeaders and, unless `extra_headers` has a Content-Security-Policy, kApiPolicy.
  void Respond(int status, std::string_view content_type, std::string_view body,
               std::string_view extra_headers = {});
  void RespondJson(int status, std::string_view json) { Respond(status, "application/json", json); }
  // The body is {"error":{code, reason}} of ForClient(error); `extra_headers` as for Respond.
  void RespondError(const Status& error, std::string_view extra_headers = {});
  // Switches to kWebSocket for an upgrade request that passed its checks.
  void AcceptWebSocket(const http::Request& request, TokenUser user);

  // WebSocket.
  const TokenUser& user() const { return user_; }
  void SendText(std::string_view payload);
  void SendShared(SharedFrame* frame);
  void SendEncoded(std::string_view frames);  // frames already encoded (a slice of a room's batch)
  // `retry_after_ms` > 0 is sent along (a rate_limited refusal).
  void SendErrorFrame(std::string_view code, std::string_view reason, std::string_view client_msg_id = {},
                      int64_t retry_after_ms = 0);
  void SendErrorFrame(const Status& error, std::string_view client_msg_id = {});  // of ForClient(error)
  void CloseWebSocket(uint16_t code, std::string_view reason);
  // The server is stopping: a WebSocket leaves its rooms and its user's presence now, so that the
  // loop's last Redis commands carry them, and closes with 1001. HTTP connections end with the loop.
  void GoAway();
  void Uncork() { write_queued_ = false; WriteOut(); }  // from the loop's end-of-iteration flush
  // A catch-up is about to send `bytes` at once: the output limit grows by that much until the
  // output has drained, so a replay (bounded by --replay-limit) never drops its own reader.
  void AllowBacklog(size_t bytes) { backlog_allowance_ += bytes; }
  std::vector<Seat>& seats() { return seats_; }
  ConnectionLimits& limits() { return limits_; }
  // The client's IP address as text ("" if the socket has none).
  std::string PeerAddress() const;
  Seat* FindSeat(int64_t room);

 private:
  static void OnReadable(evutil_socket_t, short what, void* arg);
  static void OnWritable(evutil_socket_t, short what, void* arg);
  void ReadSocket();
  void ReadHttp();
  void ReadWebSocket(const char* data, size_t len);
  void OnWebSocketEvent(const ws::Event& event);
  void PauseReading();
  void ResumeReading();
  evbuffer* Out();  // the output buffer, borrowed from the loop until it drains
  void Queued();    // output grew: have the loop's flush write it
  void WriteOut();  // writes what the socket takes; a write event waits for the rest
  void Drained();
  void CloseAfterFlush();
  bool OverOutputLimit();

  Loop* loop_;
  const uint64_t id_;
  const int fd_;
  event read_event_;              // embedded: an idle connection is one allocation less
  event* write_event_ = nullptr;  // only while the socket holds back output
  evbuffer* out_ = nullptr;       // only while there is output
  std::string in_;                // HTTP bytes not parsed yet (and those after an upgrade request)
  State state_ = State::kHttp;
  bool serving_ = false;          // an HTTP request is being answered
  bool keep_alive_ = true;        // of the request being served
  bool head_only_ = false;        // it is a HEAD request: headers as for GET, no body
  bool write_queued_ = false;     // the loop's next flush will Uncork this connection
  size_t backlog_allowance_ = 0;  // catch-up bytes allowed above max_output, until the output drains
  TokenUser user_;
  std::unique_ptr<ws::FrameDecoder> decoder_;  // only once upgraded: idle HTTP connections stay small
  std::vector<Seat> seats_;
  ConnectionLimits limits_;
};

}  // namespace chatpipe
