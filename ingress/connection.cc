#include "ingress/connection.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/metrics.h"
#include "common/utf8.h"
#include "ingress/http_api.h"
#include "ingress/http_status.h"
#include "ingress/loop.h"
#include "ingress/shared_frame.h"
#include "ingress/ws_session.h"

namespace chatpipe {
namespace {

Metric& open_connections = Gauge("chatpipe_ingress_connections", "open client connections");
Metric& open_websockets = Gauge("chatpipe_ingress_websockets", "open WebSocket connections");
Metric& slow_readers = Counter("chatpipe_ingress_slow_readers_total", "WebSockets closed for falling behind");

constexpr timeval kHttpIdleTimeout{120, 0};
constexpr timeval kFlushTimeout{10, 0};

}  // namespace

Connection::Connection(Loop* loop, uint64_t id, int fd) : loop_(loop), id_(id), fd_(fd) {
  open_connections.Add(1);
  event_assign(&read_event_, loop_->base(), fd_, EV_READ | EV_PERSIST, &Connection::OnReadable, this);
  event_add(&read_event_, &kHttpIdleTimeout);
}

Connection::~Connection() {
  loop_->rooms().LeaveAll(this);
  if (state_ == State::kWebSocket || decoder_) loop_->users().Remove(this);
  if (state_ == State::kWebSocket || decoder_) open_websockets.Add(-1);
  open_connections.Add(-1);
  event_del(&read_event_);
  if (write_event_) event_free(write_event_);
  if (out_) evbuffer_free(out_);  // may hold references to shared frames: freeing releases them
  close(fd_);
}

void Connection::OnReadable(evutil_socket_t, short what, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  if (what & EV_TIMEOUT) return c->loop_->CloseConnection(c->id_);  // an idle HTTP connection
  c->ReadSocket();
}

void Connection::OnWritable(evutil_socket_t, short what, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  if (what & EV_TIMEOUT) return c->loop_->CloseConnection(c->id_);  // a close that could not flush
  c->WriteOut();
}

void Connection::ReadSocket() {
  char* buf = loop_->read_buffer();
  ssize_t n = recv(fd_, buf, Loop::kReadBufferSize, 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
    return loop_->CloseConnection(id_);
  size_t got = n > 0 ? static_cast<size_t>(n) : 0;  // 0: woken to parse what is already here
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
  static const http::Limits limits;
  while (state_ == State::kHttp && !serving_ && !in_.empty()) {
    http::Request request;
    size_t consumed = 0;
    Status error;
    http::ParseResult r = http::ParseRequest(in_, limits, &request, &consumed, &error);
    if (r == http::ParseResult::kIncomplete) return;
    serving_ = true;
    if (r == http::ParseResult::kError) {
      keep_alive_ = false;
      RespondError(error);
      return;
    }
    in_.erase(0, consumed);
    keep_alive_ = request.keep_alive;
    head_only_ = request.method == "HEAD";
    HandleHttpRequest(*this, std::move(request));
  }
  if (in_.empty()) std::string().swap(in_);  // an idle keep-alive connection holds no buffer
  // Answering asynchronously: stop reading so pipelined requests wait their turn.
  if (serving_ && state_ == State::kHttp) PauseReading();
}

void Connection::PauseReading() { event_del(&read_event_); }

void Connection::ResumeReading() {
  event_add(&read_event_, state_ == State::kHttp ? &kHttpIdleTimeout : nullptr);
  // The next request may already be here; read it on the next turn of the loop, not from inside
  // this call (which may come from a handler still on the stack).
  if (!in_.empty()) event_active(&read_event_, EV_READ, 0);
}

void Connection::Respond(int status, std::string_view content_type, std::string_view body,
                         std::string_view extra_headers) {
  if (state_ != State::kHttp || !serving_) return;
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + std::string(http::StatusText(status)) +
                     "\r\nContent-Type: " + std::string(content_type) +
                     "\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\nX-Instance-Id: " + loop_->services().instance_id + "\r\n";
  if (!keep_alive_) head += "Connection: close\r\n";
  head.append(extra_headers);
  head += "\r\n";
  evbuffer* out = Out();
  evbuffer_add(out, head.data(), head.size());
  if (!head_only_) evbuffer_add(out, body.data(), body.size());
  serving_ = false;
  if (!keep_alive_) return CloseAfterFlush();
  Queued();
  ResumeReading();
}

void Connection::RespondError(const Status& error) {
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
  RespondJson(HttpStatusFor(error), std::string_view(buf.GetString(), buf.GetSize()));
}

void Connection::AcceptWebSocket(const http::Request& request, TokenUser user) {
  std::string response = ws::UpgradeResponse(request);
  evbuffer_add(Out(), response.data(), response.size());
  state_ = State::kWebSocket;
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
    case Type::kPing: {
      std::string pong = ws::EncodeFrame(ws::Opcode::kPong, event.payload);
      evbuffer_add(Out(), pong.data(), pong.size());
      Queued();
      break;
    }
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
  // Too far behind: drop it rather than buffer without bound. A close frame could not get through a
  // full buffer anyway; the client reconnects and catches up with "after".
  slow_readers.Add();
  state_ = State::kClosing;
  PauseReading();
  if (write_event_) event_del(write_event_);
  Loop* loop = loop_;
  uint64_t id = id_;
  loop_->tasks().Post([loop, id] { loop->CloseConnection(id); });
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
  event_add(write_event_, state_ == State::kClosing ? &kFlushTimeout : nullptr);
}

void Connection::Drained() {
  if (write_event_) {
    event_free(write_event_);
    write_event_ = nullptr;
  }
  backlog_allowance_ = 0;
  loop_->ReturnBuffer(out_);
  out_ = nullptr;
  if (state_ == State::kClosing) loop_->CloseConnection(id_);  // frees this: nothing may follow
}

void Connection::SendErrorFrame(std::string_view code, std::string_view reason, std::string_view client_msg_id) {
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
  w.EndObject();
  SendText(std::string_view(buf.GetString(), buf.GetSize()));
}

void Connection::CloseWebSocket(uint16_t code, std::string_view reason) {
  if (state_ != State::kWebSocket) return;
  std::string frame = ws::EncodeCloseFrame(code, reason);
  evbuffer_add(Out(), frame.data(), frame.size());
  CloseAfterFlush();
}

void Connection::GoAway() {
  if (state_ != State::kWebSocket) return;
  loop_->rooms().LeaveAll(this);
  loop_->users().Remove(this);  // again from the destructor: a no-op then
  CloseWebSocket(ws::kCloseGoingAway, "server shutting down");
}

void Connection::CloseAfterFlush() {
  state_ = State::kClosing;
  PauseReading();
  if (!out_ || evbuffer_get_length(out_) == 0) {
    Loop* loop = loop_;
    uint64_t id = id_;
    loop_->tasks().Post([loop, id] { loop->CloseConnection(id); });
    return;
  }
  // Drained() closes once the output is out; a peer that never reads gets kFlushTimeout.
  if (write_event_) event_add(write_event_, &kFlushTimeout);
  else Queued();
}

Seat* Connection::FindSeat(int64_t room) {
  for (auto& seat : seats_)
    if (seat.room == room) return &seat;
  return nullptr;
}

}  // namespace chatpipe
