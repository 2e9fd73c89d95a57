#include "ingress/connection.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/metrics.h"
#include "ingress/http_api.h"
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

Connection::Connection(Loop* loop, uint64_t id, bufferevent* bev) : loop_(loop), id_(id), bev_(bev) {
  open_connections.Add(1);
  bufferevent_setcb(bev_, &Connection::OnRead, &Connection::OnWrite, &Connection::OnEvent, this);
  bufferevent_set_timeouts(bev_, &kHttpIdleTimeout, nullptr);
  bufferevent_enable(bev_, EV_READ | EV_WRITE);
}

Connection::~Connection() {
  loop_->rooms().LeaveAll(this);
  if (state_ == State::kWebSocket || decoder_) loop_->users().Remove(this);
  if (state_ == State::kWebSocket || decoder_) open_websockets.Add(-1);
  open_connections.Add(-1);
  bufferevent_free(bev_);
}

void Connection::OnRead(bufferevent*, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  if (c->state_ == State::kHttp) c->ReadHttp();
  if (c->state_ == State::kWebSocket) c->ReadWebSocket();
}

void Connection::OnWrite(bufferevent*, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  // Called when the output buffer has drained.
  if (c->state_ == State::kClosing) return c->loop_->CloseConnection(c->id_);
  if (c->state_ == State::kWebSocket) {
    bufferevent_disable(c->bev_, EV_WRITE);  // corked again
    c->backlog_allowance_ = 0;
  }
}

void Connection::OnEvent(bufferevent*, short events, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) c->loop_->CloseConnection(c->id_);
}

void Connection::ReadHttp() {
  evbuffer* in = bufferevent_get_input(bev_);
  static const http::Limits limits;
  while (state_ == State::kHttp && !serving_) {
    size_t len = evbuffer_get_length(in);
    if (len == 0) return;
    const char* data = reinterpret_cast<const char*>(evbuffer_pullup(in, -1));
    http::Request request;
    size_t consumed = 0;
    Status error;
    http::ParseResult r = http::ParseRequest(std::string_view(data, len), limits, &request, &consumed, &error);
    if (r == http::ParseResult::kIncomplete) return;
    serving_ = true;
    if (r == http::ParseResult::kError) {
      keep_alive_ = false;
      RespondError(error);
      return;
    }
    evbuffer_drain(in, consumed);
    keep_alive_ = request.keep_alive;
    head_only_ = request.method == "HEAD";
    HandleHttpRequest(*this, std::move(request));
  }
  // Answering asynchronously: stop reading so pipelined requests wait their turn.
  if (serving_ && state_ == State::kHttp) bufferevent_disable(bev_, EV_READ);
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
  evbuffer* out = bufferevent_get_output(bev_);
  evbuffer_add(out, head.data(), head.size());
  if (!head_only_) evbuffer_add(out, body.data(), body.size());
  serving_ = false;
  if (!keep_alive_) {
    CloseAfterFlush();
    return;
  }
  bufferevent_enable(bev_, EV_READ);
  // The next pipelined request may already be buffered; read it on the next turn of the loop, not
  // from inside this call (which may come from a handler still on the stack).
  bufferevent_trigger(bev_, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

void Connection::RespondError(const Status& error) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("error");
  w.StartObject();
  w.Key("code");
  w.String(error.code().c_str());
  w.Key("reason");
  w.String(error.reason().c_str());
  w.EndObject();
  w.EndObject();
  RespondJson(error.http_status(), std::string_view(buf.GetString(), buf.GetSize()));
}

void Connection::AcceptWebSocket(const http::Request& request, TokenUser user) {
  std::string response = ws::UpgradeResponse(request);
  evbuffer_add(bufferevent_get_output(bev_), response.data(), response.size());
  state_ = State::kWebSocket;
  bufferevent_disable(bev_, EV_WRITE);
  Queued();
  serving_ = false;
  user_ = std::move(user);
  decoder_ = std::make_unique<ws::FrameDecoder>(ws::Role::kServer);
  open_websockets.Add(1);
  loop_->users().Add(this);
  bufferevent_set_timeouts(bev_, nullptr, nullptr);
  bufferevent_enable(bev_, EV_READ);
  bufferevent_trigger(bev_, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

void Connection::ReadWebSocket() {
  evbuffer* in = bufferevent_get_input(bev_);
  while (state_ == State::kWebSocket && evbuffer_get_length(in) > 0) {
    evbuffer_iovec chunk;
    evbuffer_peek(in, -1, nullptr, &chunk, 1);
    const char* data = static_cast<const char*>(chunk.iov_base);
    size_t used = 0;
    while (used < chunk.iov_len && state_ == State::kWebSocket) {
      ws::Event event;
      used += decoder_->Feed(data + used, chunk.iov_len - used, &event);
      if (decoder_->failed()) {
        CloseWebSocket(decoder_->error_code(), decoder_->error_reason());
        break;
      }
      if (event.type != ws::Event::Type::kNone) OnWebSocketEvent(event);
    }
    evbuffer_drain(in, state_ == State::kWebSocket ? used : evbuffer_get_length(in));
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
      evbuffer_add(bufferevent_get_output(bev_), pong.data(), pong.size());
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
  const size_t queued = evbuffer_get_length(bufferevent_get_output(bev_));
  if (queued <= loop_->services().config.max_output_bytes + backlog_allowance_) return false;
  // Too far behind: drop it rather than buffer without bound. A close frame could not get through a
  // full buffer anyway; the client reconnects and catches up with "after".
  slow_readers.Add();
  state_ = State::kClosing;
  bufferevent_disable(bev_, EV_READ | EV_WRITE);
  Loop* loop = loop_;
  uint64_t id = id_;
  loop_->Post([loop, id] { loop->CloseConnection(id); });
  return true;
}

void Connection::SendText(std::string_view payload) {
  if (state_ != State::kWebSocket) return;
  uint8_t header[ws::kMaxFrameHeader];
  size_t n = ws::EncodeFrameHeader(ws::Opcode::kText, payload.size(), true, nullptr, header);
  evbuffer* out = bufferevent_get_output(bev_);
  evbuffer_add(out, header, n);
  evbuffer_add(out, payload.data(), payload.size());
  if (!OverOutputLimit()) Queued();
}

void Connection::SendShared(SharedFrame* frame) {
  if (state_ != State::kWebSocket) return;
  frame->AppendTo(bufferevent_get_output(bev_));
  if (!OverOutputLimit()) Queued();
}

void Connection::SendEncoded(std::string_view frames) {
  if (state_ != State::kWebSocket) return;
  evbuffer_add(bufferevent_get_output(bev_), frames.data(), frames.size());
  if (!OverOutputLimit()) Queued();
}

void Connection::Queued() {
  if (write_queued_) return;
  write_queued_ = true;
  loop_->WantsWrite(id_);
}

void Connection::Uncork() {
  write_queued_ = false;
  if (state_ != State::kWebSocket) return;  // closing: the bufferevent's write event has the rest
  evbuffer* out = bufferevent_get_output(bev_);
  evbuffer_write(out, bufferevent_getfd(bev_));
  // The socket took less than all (or failed): the write event finishes it, or reports the error.
  if (evbuffer_get_length(out) > 0) bufferevent_enable(bev_, EV_WRITE);
  else backlog_allowance_ = 0;
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
  evbuffer_add(bufferevent_get_output(bev_), frame.data(), frame.size());
  CloseAfterFlush();
}

void Connection::CloseAfterFlush() {
  state_ = State::kClosing;
  bufferevent_disable(bev_, EV_READ);
  bufferevent_set_timeouts(bev_, nullptr, &kFlushTimeout);
  // OnWrite fires once the output has drained and closes the connection then.
  bufferevent_enable(bev_, EV_WRITE);
  if (evbuffer_get_length(bufferevent_get_output(bev_)) == 0) {
    Loop* loop = loop_;
    uint64_t id = id_;
    loop_->Post([loop, id] { loop->CloseConnection(id); });
  }
}

Seat* Connection::FindSeat(int64_t room) {
  for (auto& seat : seats_)
    if (seat.room == room) return &seat;
  return nullptr;
}

}  // namespace chatpipe
