#include "ingress/connection.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/metrics.h"
#include "common/steady_clock.h"
#include "common/utf8.h"
#include "ingress/api_support.h"
#include "ingress/http_api.h"
#include "ingress/http_status.h"
#include "ingress/loop.h"
#include "ingress/media_api.h"
#include "ingress/shared_frame.h"
#include "ingress/web_security.h"
#include "ingress/ws_session.h"

namespace chatpipe {
namespace {

Metric& open_connections = Gauge("chatpipe_ingress_connections", "open client connections");
Metric& open_websockets = Gauge("chatpipe_ingress_websockets", "open WebSocket connections");
Metric& slow_readers = Counter("chatpipe_ingress_slow_readers_total", "WebSockets closed for falling behind");
Metric& pings_sent = Counter("chatpipe_ingress_pings_total", "pings sent to silent WebSockets");
Metric& no_pong = Counter("chatpipe_ingress_no_pong_total", "WebSockets closed for answering no ping");
Metric& request_timeouts = Counter("chatpipe_ingress_http_request_timeouts_total",
                                   "HTTP connections closed (408) for a request that did not arrive in time");
Metric& output_pauses = Counter("chatpipe_ingress_http_output_pauses_total",
                                "times an HTTP connection stopped reading requests until its answers drained");

const http::Limits kHttpLimits;
// The most request input a connection holds without an upload claim: the largest request the
// limits let through, uploads aside.
const size_t kMaxHttpInput = kHttpLimits.max_header_bytes + kHttpLimits.max_body_bytes;

http::Limits UploadLimits(size_t max_upload_bytes) {
  http::Limits limits = kHttpLimits;
  limits.max_upload_bytes = max_upload_bytes;
  limits.is_upload = IsUploadRequest;
  return limits;
}

// An empty ping: the peer's pong, or anything else it sends, shows it is there.
constexpr std::string_view kPingFrame("\x89\x00", 2);

}  // namespace

Connection::Connection(Loop* loop, uint64_t id, int fd, const IpAddress& peer, bool proxied)
    : loop_(loop), id_(id), fd_(fd), client_(peer), proxied_(proxied) {
  open_connections.Add(1);
  event_assign(&read_event_, loop_->base(), fd_, EV_READ | EV_PERSIST, &Connection::OnReadable, this);
  // The first request is due within the request timeout of the connection, not the idle time: a
  // connection that sends nothing at all is a slowloris too.
  event_add(&read_event_, loop_->request_timeout());
}

Connection::~Connection() {
  loop_->rooms().LeaveAll(this);
  loop_->board().Remove(this);
  if (state_ == State::kWebSocket || decoder_) loop_->users().Remove(this);
  if (state_ == State::kWebSocket || decoder_) open_websockets.Add(-1);
  open_connections.Add(-1);
  event_del(&read_event_);
  if (write_event_) event_free(write_event_);
  if (out_) evbuffer_free(out_);  // may hold references to shared frames: freeing releases them
  close(fd_);
  const std::string client = ClientAddress();
  loop_->services().connections.Release(proxied_ ? std::string() : client);
  if (client_counted_) loop_->services().connections.ReleaseClient(client);
}

void Connection::OnReadable(evutil_socket_t, short what, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  if (what & EV_TIMEOUT) return c->OnReadTimeout();
  c->ReadSocket();
}

// HTTP only (a WebSocket's silence is the sweep's); reading is paused in kClosing and while an answer
// is pending, so only these are left.
void Connection::OnReadTimeout() {
  if (in_.empty()) return loop_->CloseConnection(id_);  // idle between requests
  request_timeouts.Add();
  serving_ = true;
  keep_alive_ = false;
  head_only_ = false;
  RespondError(Status::DeadlineExceeded("request_timeout", "the request did not arrive in time"));
}

void Connection::CheckSilence(uint32_t now_ms) {
  // Unsigned difference: right across the 49 days after which the millisecond count wraps.
  if (state_ != State::kWebSocket ||
      now_ms - heard_ms_ < static_cast<uint32_t>(loop_->services().config.connections.ws_ping_interval_ms))
    return;
  if (unanswered_pings_ >= loop_->services().config.connections.ws_missed_pongs) {
    no_pong.Add();
    return CloseWebSocket(ws::kCloseNoPong, "no pong");
  }
  ++unanswered_pings_;
  pings_sent.Add();
  heard_ms_ = now_ms;  // the next ping, or the close, an interval from now
  SendPing();
}

// Straight to the socket when nothing else waits: through a borrowed buffer, each ping of a sweep took
// a 1 KB chain until the loop's flush, and a sweep of thousands of idle connections left the heap
// that much bigger for good.
void Connection::SendPing() {
  const ssize_t n = out_ ? 0 : send(fd_, kPingFrame.data(), kPingFrame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n == static_cast<ssize_t>(kPingFrame.size())) return;
  SendEncoded(kPingFrame.substr(n > 0 ? static_cast<size_t>(n) : 0));  // the rest; an error shows at the flush
}

void Connection::ArmReadTimeout() {
  if (state_ == State::kWebSocket) {
    heard_ms_ = static_cast<uint32_t>(SteadyMs());
    // Silence is the loop's sweep's (CheckSilence). The HTTP deadline the upgrade was read under
    // must go for good: event_add without a timeout keeps a pending one, and a persistent event
    // re-arms its last timeout at every read. Assigning the event again forgets it.
    event_del(&read_event_);
    event_assign(&read_event_, loop_->base(), fd_, EV_READ | EV_PERSIST, &Connection::OnReadable, this);
    event_add(&read_event_, nullptr);
    return;
  }
  if (in_.empty()) {
    request_deadline_ms_ = 0;
    event_add(&read_event_, loop_->idle_timeout());
    return;
  }
  const int64_t now = SteadyMs();
  if (request_deadline_ms_ == 0) request_deadline_ms_ = now + loop_->services().config.connections.http_request_timeout_ms;
  const int64_t left = std::max<int64_t>(request_deadline_ms_ - now, 0);
  const timeval tv{static_cast<time_t>(left / 1000), static_cast<suseconds_t>(left % 1000 * 1000)};
  event_add(&read_event_, &tv);
}

void Connection::OnWritable(evutil_socket_t, short what, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  if (what & EV_TIMEOUT) return c->loop_->CloseConnection(c->id_);  // a close that could not flush
  c->WriteOut();
}

void Connection::ReadSocket() {
  char* buf = loop_->read_buffer();
  // Pipelined HTTP requests wait in the socket, not here: hold at most one request's worth, which
  // always parses to an answer or an error, so reading stops only while a request is being served.
  size_t room = Loop::kReadBufferSize;
  if (state_ == State::kHttp) room = std::min(room, MaxInput() - std::min(MaxInput(), in_.size()));
  size_t got = 0;  // 0: woken to parse what is already here
  if (room > 0) {
    ssize_t n = recv(fd_, buf, room, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
      return loop_->CloseConnection(id_);
    got = n > 0 ? static_cast<size_t>(n) : 0;
  }
  if (got > 0) {  // whatever it sent, the peer is there
    unanswered_pings_ = 0;
    if (state_ == State::kWebSocket) heard_ms_ = static_cast<uint32_t>(SteadyMs());
  }
  if (state_ == State::kHttp) {
    in_.append(buf, got);
    ReadHttp();
  } else if (state_ == State::kWebSocket) {
    if (!in_.empty()) {  // frames sent right behind the upgrade request
      std::string early;
      early.swap(in_);
      ReadWebSocket(early.data(), early.size());
    }
    if (state_ == State::kWebSocket) ReadWebSocket(buf, got);
  }
}

void Connection::ReadHttp() {
  while (state_ == State::kHttp && !serving_ && !in_.empty()) {
    if (out_ && evbuffer_get_length(out_) > loop_->services().config.max_output_bytes) {
      // A client that sends requests and reads no answers: stop reading until they drain (Drained).
      output_pauses.Add();
      output_full_ = true;
      return PauseReading();
    }
    http::Request request;
    size_t consumed = 0;
    Status error;
    const http::Limits limits = UploadLimits(loop_->services().config.media.max_upload_bytes);
    http::ParseResult r = http::ParseRequest(in_, limits, &request, &consumed, &error, &request_progress_);
    if (r == http::ParseResult::kIncomplete) {
      if (consumed > kMaxHttpInput && !upload_claim_ && !ClaimUpload(request, consumed)) return;
      return ArmReadTimeout();  // the request's deadline
    }
    serving_ = true;
    request_deadline_ms_ = 0;
    request_progress_ = {};  // the next request starts at in_'s new front
    if (r == http::ParseResult::kError) {
      keep_alive_ = false;
      RespondError(error);
      return;
    }
    in_.erase(0, consumed);
    keep_alive_ = request.keep_alive && !loop_->services().draining;
    head_only_ = request.method == "HEAD";
    // nginx sends many clients' requests down one kept-alive connection: each names its own.
    if (proxied_) client_ = loop_->services().proxies.ClientOf(Peer(), request.headers);
    HandleHttpRequest(*this, std::move(request));
  }
  // An idle keep-alive connection holds no buffer, and one an upload grew is given back.
  if (in_.empty()) std::string().swap(in_);
  else if (in_.capacity() > 2 * kMaxHttpInput) in_.shrink_to_fit();
  // Answering asynchronously: stop reading so pipelined requests wait their turn.
  if (serving_ && state_ == State::kHttp) PauseReading();
}

size_t Connection::MaxInput() const {
  return upload_claim_ ? std::max(kMaxHttpInput, upload_claim_->bytes()) : kMaxHttpInput;
}

bool Connection::ClaimUpload(const http::Request& head, size_t size) {
  // Its body is still coming: an answer now closes the connection rather than read megabytes to skip it.
  auto refuse = [this](const Status& why, std::string_view headers) {
    serving_ = true;
    keep_alive_ = false;
    RespondError(why, headers);
    return false;
  };
  // Memory is set aside for a signed-in user's body only; the route checks the session's logout.
  if (auto user = SignedUser(*this, head); !user.ok()) return refuse(user.status(), "");
  Services& services = loop_->services();
  const IpAddress client = proxied_ ? services.proxies.ClientOf(Peer(), head.headers) : client_;
  upload_claim_ = services.uploads.Claim(AddressKey(client), size);
  if (upload_claim_) {
    // An upload may take longer than a request; its deadline starts now.
    request_deadline_ms_ = SteadyMs() + services.config.media.upload_timeout_ms;
    return true;
  }
  return refuse(Status::Unavailable("busy", "too many uploads in progress; try again shortly"), "Retry-After: 1\r\n");
}

void Connection::PauseReading() { event_del(&read_event_); }

void Connection::ResumeReading() {
  ArmReadTimeout();
  // The next request may already be here; read it on the next turn of the loop, not from inside
  // this call (which may come from a handler still on the stack).
  if (!in_.empty()) event_active(&read_event_, EV_READ, 0);
}

void Connection::Respond(int status, std::string_view content_type, std::string_view body,
                         std::string_view extra_headers) {
  if (state_ != State::kHttp || !serving_) return;
  WriteHead(status, content_type, body.size(), extra_headers);
  if (!head_only_) evbuffer_add(Out(), body.data(), body.size());
  Answered();
}

void Connection::RespondShared(int status, std::string_view content_type, std::shared_ptr<const std::string> body,
                               std::string_view extra_headers) {
  if (state_ != State::kHttp || !serving_) return;
  WriteHead(status, content_type, body->size(), extra_headers);
  if (!head_only_ && !body->empty()) {
    auto* held = new std::shared_ptr<const std::string>(body);
    evbuffer_add_reference(
        Out(), body->data(), body->size(),
        [](const void*, size_t, void* arg) { delete static_cast<std::shared_ptr<const std::string>*>(arg); }, held);
  }
  Answered();
}

void Connection::WriteHead(int status, std::string_view content_type, size_t length, std::string_view extra_headers) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + std::string(http::StatusText(status)) +
                     "\r\nContent-Type: " + std::string(content_type) +
                     "\r\nContent-Length: " + std::to_string(length) +
                     "\r\nX-Instance-Id: " + loop_->services().instance_id + "\r\n";
  if (!keep_alive_) head += "Connection: close\r\n";
  head.append(kSecurityHeaders);
  if (extra_headers.find("Content-Security-Policy:") == std::string_view::npos) head.append(kApiPolicy);
  head.append(extra_headers);
  head += "\r\n";
  evbuffer_add(Out(), head.data(), head.size());
}

void Connection::Answered() {
  serving_ = false;
  upload_claim_.reset();  // a route that did not take it is done with the body
  if (!keep_alive_) return CloseAfterFlush();
  Queued();
  ResumeReading();
}

void Connection::RespondError(const Status& original, std::string_view extra_headers) {
  Status error = ForClient(original);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("error");
  w.StartObject();
  w.Key("code");
  w.String(error.name().c_str());
  w.Key("reason");
  // A detail may quote the request (a percent-decoded path): the body must stay UTF-8 whatever it held.
  const std::string reason = IsValidUtf8(error.detail()) ? error.detail() : ReplaceInvalidUtf8(error.detail());
  w.String(reason.data(), static_cast<rapidjson::SizeType>(reason.size()));
  w.EndObject();
  w.EndObject();
  Respond(HttpStatusFor(error), "application/json", std::string_view(buf.GetString(), buf.GetSize()), extra_headers);
}

void Connection::AcceptWebSocket(const http::Request& request, TokenUser user) {
  if (proxied_) {
    if (!loop_->services().connections.AdmitClient(ClientAddress())) {
      CountRefusal("connections_per_address");
      return RespondError(Status::ResourceExhausted("too_many_connections", "too many connections from your address"));
    }
    client_counted_ = true;
  }
  // Like every HTTP answer, the upgrade names the instance: behind a balancer it shows where the socket went.
  std::string response = ws::UpgradeResponse(request, "X-Instance-Id: " + loop_->services().instance_id + "\r\n");
  evbuffer_add(Out(), response.data(), response.size());
  state_ = State::kWebSocket;
  EndTcpKeepalive(fd_);
  Queued();
  serving_ = false;
  user_ = std::move(user);
  decoder_ = std::make_unique<ws::FrameDecoder>(ws::Role::kServer);
  open_websockets.Add(1);
  loop_->users().Add(this);
  ResumeReading();  // without the HTTP idle timeout
}

void Connection::ReadWebSocket(const char* data, size_t len) {
  size_t used = 0;
  while (used < len && state_ == State::kWebSocket) {
    ws::Event event;
    used += decoder_->Feed(data + used, len - used, &event);
    if (decoder_->failed()) return CloseWebSocket(decoder_->error_code(), decoder_->error_reason());
    if (event.type != ws::Event::Type::kNone) OnWebSocketEvent(event);
  }
}

void Connection::OnWebSocketEvent(const ws::Event& event) {
  using Type = ws::Event::Type;
  switch (event.type) {
    case Type::kText:
      HandleWebSocketText(*this, event.payload);
      break;
    case Type::kBinary:
      SendErrorFrame("binary_unsupported", "frames must be JSON text");
      break;
    case Type::kPing:  // a pong is output like any other: a pinger that never reads is a slow reader
      SendEncoded(ws::EncodeFrame(ws::Opcode::kPong, event.payload));
      break;
    case Type::kClose:
      CloseWebSocket(event.close_code == ws::kCloseNoStatus ? uint16_t{ws::kCloseNormal} : event.close_code, "");
      break;
    case Type::kPong:
    case Type::kNone:
      break;
  }
}

bool Connection::OverOutputLimit() {
  const size_t queued = evbuffer_get_length(out_);
  if (queued <= loop_->services().config.max_output_bytes + backlog_allowance_) return false;
  // Too far behind: close it rather than buffer without bound; the client reconnects and catches up
  // with "after". Nothing more is added but the close frame, which goes out behind what is queued
  // (or not at all, should the reader not drain it within the flush timeout). This send may come
  // from a walk over a room's members or a user's connections, so it leaves them on the next turn.
  slow_readers.Add();
  Loop* loop = loop_;
  uint64_t id = id_;
  loop_->tasks().Post([loop, id] {
    if (Connection* c = loop->FindConnection(id)) c->LeaveAll();
  });
  SendClose(ws::kCloseTooSlow, "too far behind");
  return true;
}

void Connection::SendText(std::string_view payload) {
  if (state_ != State::kWebSocket) return;
  uint8_t header[ws::kMaxFrameHeader];
  size_t n = ws::EncodeFrameHeader(ws::Opcode::kText, payload.size(), true, nullptr, header);
  evbuffer* out = Out();
  evbuffer_add(out, header, n);
  evbuffer_add(out, payload.data(), payload.size());
  if (!OverOutputLimit()) Queued();
}

void Connection::SendShared(SharedFrame* frame) {
  if (state_ != State::kWebSocket) return;
  frame->AppendTo(Out());
  if (!OverOutputLimit()) Queued();
}

void Connection::SendEncoded(std::string_view frames) {
  if (state_ != State::kWebSocket) return;
  evbuffer_add(Out(), frames.data(), frames.size());
  if (!OverOutputLimit()) Queued();
}

evbuffer* Connection::Out() {
  if (!out_) out_ = loop_->BorrowBuffer();
  return out_;
}

void Connection::Queued() {
  // A connection waiting on its write event is written from there, when the socket takes more.
  if (write_queued_ || write_event_) return;
  write_queued_ = true;
  loop_->WantsWrite(id_);
}

void Connection::WriteOut() {
  if (!out_) return;
  if (evbuffer_write(out_, fd_) < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
    return loop_->CloseConnection(id_);
  if (evbuffer_get_length(out_) == 0) return Drained();
  if (write_event_) return;
  write_event_ = event_new(loop_->base(), fd_, EV_WRITE | EV_PERSIST, &Connection::OnWritable, this);
  // A WebSocket that does not read is bounded by --max-output and pings; an HTTP client that takes
  // none of its answers for the idle time is closed.
  event_add(write_event_, state_ == State::kClosing ? loop_->flush_timeout()
                          : state_ == State::kHttp  ? loop_->idle_timeout()
                                                    : nullptr);
}

void Connection::Drained() {
  if (write_event_) {
    event_free(write_event_);
    write_event_ = nullptr;
  }
  backlog_allowance_ = 0;
  loop_->ReturnBuffer(out_);
  out_ = nullptr;
  if (state_ == State::kClosing) return loop_->CloseConnection(id_);  // frees this: nothing may follow
  if (replay_ == Replay::kSending) EndReplay();
  if (output_full_) {
    output_full_ = false;
    if (state_ == State::kHttp && !serving_) ResumeReading();
  }
}

bool Connection::StartReplay() {
  if (replay_ != Replay::kNone) return false;
  replay_ = Replay::kReading;
  return true;
}

void Connection::ReplayDone() {
  if (replay_ != Replay::kReading) return;
  if (out_ && evbuffer_get_length(out_) > 0) {
    replay_ = Replay::kSending;  // Drained() ends it
    return;
  }
  EndReplay();
}

void Connection::EndReplay() {
  replay_ = Replay::kNone;
  if (state_ != State::kWebSocket) return;
  // Not from here: this may run inside the loop's flush or a walk over a room's members.
  Loop* loop = loop_;
  uint64_t id = id_;
  loop_->tasks().Post([loop, id] {
    if (Connection* c = loop->FindConnection(id)) loop->rooms().NextReplay(c);
  });
}

void Connection::SendErrorFrame(std::string_view code, std::string_view reason, std::string_view client_msg_id,
                                int64_t retry_after_ms) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("type");
  w.String("error");
  w.Key("code");
  w.String(code.data(), code.size());
  w.Key("reason");
  w.String(reason.data(), reason.size());
  if (!client_msg_id.empty()) {
    w.Key("client_msg_id");
    w.String(client_msg_id.data(), client_msg_id.size());
  }
  if (retry_after_ms > 0) {
    w.Key("retry_after_ms");
    w.Int64(retry_after_ms);
  }
  w.EndObject();
  SendText(std::string_view(buf.GetString(), buf.GetSize()));
}

void Connection::SendErrorFrame(const Status& original, std::string_view client_msg_id) {
  Status error = ForClient(original);
  SendErrorFrame(error.name(), error.detail(), client_msg_id);
}

void Connection::CloseWebSocket(uint16_t code, std::string_view reason) {
  if (state_ != State::kWebSocket) return;
  LeaveAll();
  SendClose(code, reason);
}

void Connection::LeaveAll() {
  loop_->rooms().LeaveAll(this);
  loop_->board().Remove(this);
  loop_->users().Remove(this);  // again from the destructor: a no-op then
}

void Connection::SendClose(uint16_t code, std::string_view reason) {
  std::string frame = ws::EncodeCloseFrame(code, reason);
  evbuffer_add(Out(), frame.data(), frame.size());
  CloseAfterFlush();
}

void Connection::Drain() {
  if (state_ != State::kHttp) return;
  keep_alive_ = false;  // the answer being served says Connection: close
  if (!serving_ && in_.empty()) CloseAfterFlush();
}

void Connection::GoAway() { CloseWebSocket(ws::kCloseGoingAway, "server shutting down"); }

void Connection::CloseAfterFlush() {
  state_ = State::kClosing;
  PauseReading();
  if (!out_ || evbuffer_get_length(out_) == 0) {
    Loop* loop = loop_;
    uint64_t id = id_;
    loop_->tasks().Post([loop, id] { loop->CloseConnection(id); });
    return;
  }
  // Drained() closes once the output is out; a peer that never reads gets the flush timeout.
  if (write_event_) event_add(write_event_, loop_->flush_timeout());
  else Queued();
}

IpAddress Connection::Peer() const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return IpAddress{};
  return IpAddressOf(reinterpret_cast<const sockaddr*>(&addr));
}

Seat* Connection::FindSeat(int64_t room) {
  for (auto& seat : seats_)
    if (seat.room == room) return &seat;
  return nullptr;
}

}  // namespace chatpipe
