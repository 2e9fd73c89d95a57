// Connection: one client socket on one loop, as an explicit state machine.
//
//   kHttp ──(GET /ws, valid token)──▶ kWebSocket ──(close frame, error, no pong)──▶ kClosing ──(flushed)──▶ freed
//     └──────────(Connection: close, bad request, request timeout)─────────────────▶ kClosing
//
// In kHttp it parses pipelined requests one at a time: while a request waits for an asynchronous
// answer (database, Redis, Kafka) reading pauses, so responses go out in order, and while more than
// --max-output bytes of answers wait for a client that does not read, reading pauses too. A request
// must arrive whole within --http-request-timeout-ms (408), and a connection idle between requests
// closes after --http-idle-timeout-ms (both the read event's own timeout). In kWebSocket it decodes
// frames and hands each text message to the WebSocket session code; a socket silent for
// --ws-ping-interval-ms is pinged, and one that stays silent for --ws-missed-pongs pings is closed
// with 4003. Those are no timer: a read notes the time, and the loop's sweep (CheckSilence, a pass
// every eighth of the interval, a slice at a time) pings whoever has been silent. A timeout on each read event, kept sorted by
// libevent, cost a list walk per re-arm that grew with the loop's lateness: with 16,000 WebSockets a
// process under load it took a third of the CPU. Every close of a WebSocket by the server sends a
// close frame with a code (docs/protocol.md).
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

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/token.h"
#include "ingress/client_address.h"
#include "ingress/http_request.h"
#include "ingress/rate_limits.h"
#include "ingress/room_hub.h"
#include "ingress/send_order.h"
#include "ingress/upload_budget.h"
#include "ingress/websocket.h"

namespace chatpipe {

class Loop;
class SharedFrame;

class Connection {
 public:
  enum class State : uint8_t { kHttp, kWebSocket, kClosing };

  // Takes the socket of `peer`, and the place ConnectionCounter::Admit gave it (released when it
  // closes): under the peer's AddressKey, or in the total only when `proxied` (a trusted proxy,
  // whose clients are known per request).
  Connection(Loop* loop, uint64_t id, int fd, const IpAddress& peer, bool proxied);
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
  // The same with a body shared by many answers (the board): referenced by the output, never copied.
  void RespondShared(int status, std::string_view content_type, std::shared_ptr<const std::string> body,
                     std::string_view extra_headers = {});
  void RespondJson(int status, std::string_view json) { Respond(status, "application/json", json); }
  // The body is {"error":{code, reason}} of ForClient(error); `extra_headers` as for Respond.
  void RespondError(const Status& error, std::string_view extra_headers = {});
  // Switches to kWebSocket for an upgrade request that passed its checks; behind a trusted proxy, once
  // its client has a place under --max-connections-per-address (else 429 too_many_connections).
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
  // Leaves the rooms and the user's presence now (so a closing peer is gone for everyone at once),
  // sends a close frame with `code` and closes once it is out.
  void CloseWebSocket(uint16_t code, std::string_view reason);
  // The server is stopping: a WebSocket closes with 1001, its leaves going out with the loop's last
  // Redis commands. HTTP connections end with the loop.
  void GoAway();
  // The server is draining (Loop::Drain): an HTTP connection closes after the answer being served,
  // at once if it has none. A WebSocket is left to the loop, which closes it once its acks are out.
  void Drain();
  void Uncork() { write_queued_ = false; WriteOut(); }  // from the loop's end-of-iteration flush
  // The loop's sweep, at `now_ms` (SteadyMs, truncated): a WebSocket silent for the ping interval is
  // pinged, or closed with 4003 once --ws-missed-pongs pings went unanswered.
  void CheckSilence(uint32_t now_ms);
  // A catch-up is about to send `bytes` at once: the output limit grows by that much until the
  // output has drained, so a replay (bounded by --replay-limit) never drops its own reader. Replays
  // go one at a time (below), so the allowance is one replay and the live frames held meanwhile.
  void AllowBacklog(size_t bytes) {
    backlog_allowance_ = static_cast<uint32_t>(std::min<size_t>(backlog_allowance_ + bytes, UINT32_MAX));
  }
  // Join replays (RoomHub) go one at a time: from its read until its output has drained, a replay
  // holds the connection's turn, and the next catch-up that must read waits for it (NextReplay).
  // StartReplay takes the turn (false: a replay holds it); ReplayDone, once the replay was sent or
  // dropped, gives it back when the output drains, or at once if nothing waits to be written.
  bool StartReplay();
  bool Replaying() const { return replay_ != Replay::kNone; }
  void ReplayDone();
  std::vector<Seat>& seats() { return seats_; }
  // Bytes of live frames its seats hold while they catch up (RoomHub::Hold): --max-output at most.
  size_t& held_bytes() { return held_bytes_; }
  ConnectionBuckets& buckets() { return buckets_; }
  // A WebSocket's line of sends (SendOrder), made at its first send: a deque is not small.
  SendOrder& send_order() {
    if (!send_order_) send_order_ = std::make_unique<SendOrder>();
    return *send_order_;
  }
  // The UploadBudget claim of the upload request being served (null when it is no upload): the
  // route takes it along with the body, so the claim lasts as long as the bytes do.
  std::unique_ptr<UploadClaim> TakeUploadClaim() { return std::move(upload_claim_); }
  // The AddressKey of the request's client (client_address.h): the peer's, or behind a trusted proxy
  // the one its X-Forwarded-For names, for the request being served and then for the WebSocket.
  std::string ClientAddress() const { return AddressKey(client_); }
  const IpAddress& client() const { return client_; }
  bool proxied() const { return proxied_; }  // its peer is a --trusted-proxies proxy
  Seat* FindSeat(int64_t room);

 private:
  static void OnReadable(evutil_socket_t, short what, void* arg);
  static void OnWritable(evutil_socket_t, short what, void* arg);
  void OnReadTimeout();
  void ReadSocket();
  void ReadHttp();
  // The request in in_ will be `size` bytes, over the input a connection holds: claim its place in
  // the UploadBudget for its client, if `head` (the request's parsed head) carries a valid bearer
  // token. False when it was refused (answered 401, or 503 past the budget or the client's share).
  bool ClaimUpload(const http::Request& head, size_t size);
  size_t MaxInput() const;
  IpAddress Peer() const;  // the socket's peer (the unspecified address if it has none)
  void WriteHead(int status, std::string_view content_type, size_t length, std::string_view extra_headers);
  void Answered();  // the request's answer is queued: the next one may be read
  void ReadWebSocket(const char* data, size_t len);
  void OnWebSocketEvent(const ws::Event& event);
  void PauseReading();
  void ResumeReading();
  void ArmReadTimeout();  // by state: ping interval, request deadline or keep-alive idle time
  void LeaveAll();        // rooms and presence
  void SendClose(uint16_t code, std::string_view reason);
  void SendPing();
  evbuffer* Out();  // the output buffer, borrowed from the loop until it drains
  void Queued();    // output grew: have the loop's flush write it
  void WriteOut();  // writes what the socket takes; a write event waits for the rest
  void Drained();
  void EndReplay();  // the turn is free: the next waiting replay starts on the loop's next turn
  void CloseAfterFlush();
  bool OverOutputLimit();

  Loop* loop_;
  const uint64_t id_;
  const int fd_;
  // The peer, or behind a trusted proxy the request's client. A proxy's own address is not kept (16
  // bytes on every idle connection): a proxied request asks the socket (getpeername).
  IpAddress client_;
  const bool proxied_;            // the peer is a trusted proxy
  bool client_counted_ = false;   // proxied: the WebSocket's client holds a place (ConnectionCounter::AdmitClient)
  event read_event_;              // embedded: an idle connection is one allocation less
  event* write_event_ = nullptr;  // only while the socket holds back output
  evbuffer* out_ = nullptr;       // only while there is output
  std::string in_;                // HTTP bytes not parsed yet (and those after an upgrade request)
  http::Progress request_progress_;  // of the request at in_'s front: each read parses only new bytes
  State state_ = State::kHttp;
  bool serving_ = false;          // an HTTP request is being answered
  bool keep_alive_ = true;        // of the request being served
  bool head_only_ = false;        // it is a HEAD request: headers as for GET, no body
  bool write_queued_ = false;     // the loop's next flush will Uncork this connection
  bool output_full_ = false;      // HTTP: reading paused until the output drains
  uint8_t unanswered_pings_ = 0;  // WebSocket: pings sent since the peer last sent anything
  enum class Replay : uint8_t { kNone, kReading, kSending };
  Replay replay_ = Replay::kNone;  // the connection's one join replay: reading it, or its output draining
  int64_t request_deadline_ms_ = 0;  // HTTP: when the request partly here must be whole (steady ms); 0: none
  uint32_t backlog_allowance_ = 0;  // catch-up bytes allowed above max_output, until the output drains
  uint32_t heard_ms_ = 0;           // WebSocket: when the peer last sent anything, or was last pinged
  TokenUser user_;
  std::unique_ptr<ws::FrameDecoder> decoder_;  // only once upgraded: idle HTTP connections stay small
  std::unique_ptr<UploadClaim> upload_claim_;  // while an upload's body arrives and is served
  std::vector<Seat> seats_;
  size_t held_bytes_ = 0;
  ConnectionBuckets buckets_;
  std::unique_ptr<SendOrder> send_order_;
};

}  // namespace chatpipe
