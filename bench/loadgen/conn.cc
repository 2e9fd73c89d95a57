#include "bench/loadgen/conn.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bench/loadgen/tls.h"

namespace chatpipe::bench {
namespace {

// Every client uses the same handshake key: the server only checks its form, and one key lets the
// expected Sec-WebSocket-Accept be computed once.
constexpr const char* kHandshakeKey = "bG9hZGdlbi1rZXktMDAwMA==";
constexpr size_t kMaxResponseHeader = 16384;

std::string SocketError(const char* what, int err) { return std::string(what) + ": " + std::strerror(err); }

}  // namespace

Conn::~Conn() {
  if (read_event_) event_free(read_event_);
  if (bev_) bufferevent_free(bev_);
}

void Conn::Open() {
  state_ = State::kConnecting;
  open_start_ns_ = NowNs();
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(SocketError("socket", errno));
  int one = 1;
  // Take the local port at connect(), from the 4-tuple, not at bind() from this address's
  // ephemeral range alone: with several source addresses the range is not the limit.
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr = spec_.source;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
    int err = errno;
    close(fd);
    return Fail(SocketError("bind", err));
  }
  if (w_->config_.tls) {
    // The handshake starts once connect() completes; BEV_EVENT_CONNECTED comes after it. The SSL is
    // freed with the bufferevent.
    SSL* ssl = SSL_new(w_->config_.tls);
    bev_ = ssl ? bufferevent_openssl_socket_new(w_->base_, fd, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE)
               : nullptr;
    // On failure libevent may already have freed what it was given: touch neither (a leak, at worst,
    // when memory is out anyway).
    if (!bev_) return Fail("tls: " + TakeTlsError());
    // nginx may end a connection without close_notify: that is an end, not an error.
    bufferevent_openssl_set_allow_dirty_shutdown(bev_, 1);
  } else {
    bev_ = bufferevent_socket_new(w_->base_, fd, BEV_OPT_CLOSE_ON_FREE);
  }
  if (!bev_) {
    close(fd);
    return Fail("bufferevent_socket_new failed");
  }
  bufferevent_setcb(bev_, OnRead, nullptr, OnEvent, this);
  timeval timeout{static_cast<time_t>(w_->config_.handshake_timeout_ms / 1000),
                  static_cast<suseconds_t>(w_->config_.handshake_timeout_ms % 1000 * 1000)};
  bufferevent_set_timeouts(bev_, &timeout, &timeout);
  bufferevent_enable(bev_, EV_READ | EV_WRITE);
  const sockaddr_in& server = w_->config_.server;
  if (bufferevent_socket_connect(bev_, reinterpret_cast<const sockaddr*>(&server), sizeof server) < 0)
    Fail(SocketError("connect", errno));
}

void Conn::OnEvent(bufferevent*, short events, void* arg) {
  auto* c = static_cast<Conn*>(arg);
  if (events & BEV_EVENT_CONNECTED) {
    c->state_ = State::kHandshake;
    std::string path = "/ws?token=" + *c->spec_.token;
    if (c->w_->config_.peer == Peer::kSocketIo) path = "/socket.io/?EIO=4&transport=websocket";
    if (c->w_->config_.peer == Peer::kCentrifugo) path = "/connection/websocket";
    std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + c->w_->config_.host_header +
                          "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + kHandshakeKey +
                          "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    bufferevent_write(c->bev_, request.data(), request.size());
    return;
  }
  std::string why = (events & BEV_EVENT_TIMEOUT) ? "timeout"
                    : (events & BEV_EVENT_EOF)   ? "eof"
                                                 : SocketError("socket", EVUTIL_SOCKET_ERROR());
  if (c->w_->config_.tls && (events & BEV_EVENT_ERROR)) {
    // A failed handshake (a certificate that does not verify) is OpenSSL's error, not the socket's.
    if (const unsigned long e = bufferevent_get_openssl_error(c->bev_)) {
      char text[256];
      ERR_error_string_n(e, text, sizeof text);
      why = std::string("tls: ") + text;
    }
  }
  if (c->state_ == State::kOpen) return c->Lost(why);
  c->Fail(c->state_ == State::kConnecting ? "connect " + why : "handshake " + why);
}

void Conn::OnRead(bufferevent*, void* arg) {
  auto* c = static_cast<Conn*>(arg);
  if (c->state_ == State::kHandshake) c->ReadHandshake();
  if (c->state_ == State::kOpen) c->ReadFrames();
  // TLS reads stay with the bufferevent, which decrypts them.
  if (c->state_ != State::kOpen || c->read_event_ || c->w_->config_.tls) return;
  bufferevent_disable(c->bev_, EV_READ);
  c->read_event_ = event_new(c->w_->base_, bufferevent_getfd(c->bev_), EV_READ | EV_PERSIST, OnReadable, c);
  event_add(c->read_event_, nullptr);
}

void Conn::OnReadable(evutil_socket_t, short, void* arg) { static_cast<Conn*>(arg)->ReadDirect(); }

void Conn::ReadHandshake() {
  evbuffer* in = bufferevent_get_input(bev_);
  evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, nullptr);
  if (end.pos < 0) {
    if (evbuffer_get_length(in) > kMaxResponseHeader) Fail("handshake: response header too long");
    return;
  }
  const size_t len = static_cast<size_t>(end.pos) + 4;
  std::string_view head(reinterpret_cast<const char*>(evbuffer_pullup(in, static_cast<ssize_t>(len))), len);
  if (head.substr(0, 13) != "HTTP/1.1 101 ") {
    std::string status(head.substr(9, 3));
    return Fail("http " + (status.empty() ? std::string("?") : status));
  }
  static const std::string accept = ws::AcceptKey(kHandshakeKey);
  if (head.find(accept) == std::string_view::npos) return Fail("handshake: wrong Sec-WebSocket-Accept");
  evbuffer_drain(in, len);
  state_ = State::kOpen;
  if (w_->config_.peer == Peer::kSocketIo) return;  // the Engine.IO open packet comes next
  if (w_->config_.peer == Peer::kCentrifugo) return SendFrame(ws::Opcode::kText, CentrifugeConnect());
  Opened();
}

void Conn::Opened() {
  bufferevent_set_timeouts(bev_, nullptr, nullptr);  // idle connections stay
  if (!again_) {
    stats().connected++;
    stats().connect_us.Record(static_cast<uint64_t>((NowNs() - open_start_ns_) / 1000));
  }
  if (!spec_.room) return Resolve();
  if (w_->config_.peer == Peer::kCentrifugo) return SendFrame(ws::Opcode::kText, CentrifugeSubscribe(spec_.room));
  SendEvent("join", "{\"type\":\"join\",\"room\":" + std::to_string(spec_.room) + "}");
}

void Conn::ReadFrames() {
  evbuffer* in = bufferevent_get_input(bev_);
  read_ns_ = NowNs();
  while (state_ == State::kOpen) {
    const size_t len = evbuffer_get_contiguous_space(in);
    if (len == 0) return;
    Feed(reinterpret_cast<const char*>(evbuffer_pullup(in, static_cast<ssize_t>(len))), len);
    if (state_ != State::kOpen) return;  // freed: `in` is gone
    evbuffer_drain(in, len);
  }
}

void Conn::ReadDirect() {
  char* buf = w_->read_buffer_.get();
  const ssize_t n = recv(bufferevent_getfd(bev_), buf, Worker::kReadBufferSize, 0);
  if (n == 0) return Lost("eof");
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    return Lost(SocketError("socket", errno));
  }
  read_ns_ = NowNs();
  Feed(buf, static_cast<size_t>(n));
}

void Conn::Feed(const char* data, size_t len) {
  size_t used = 0;
  while (used < len && state_ == State::kOpen) {
    ws::Event event;
    used += decoder_.Feed(data + used, len - used, &event);
    if (decoder_.failed()) return Lost("protocol error: " + decoder_.error_reason());
    if (event.type != ws::Event::Type::kNone) OnFrame(event);
  }
}

void Conn::OnFrame(const ws::Event& event) {
  switch (event.type) {
    case ws::Event::Type::kText:
      if (w_->config_.peer == Peer::kSocketIo) return OnSocketIo(event.payload);
      if (w_->config_.peer == Peer::kCentrifugo) return OnCentrifuge(event.payload);
      return OnText(event.payload);
    case ws::Event::Type::kPing:
      return SendFrame(ws::Opcode::kPong, event.payload);
    case ws::Event::Type::kClose:
      return Lost("close " + std::to_string(event.close_code));
    default:
      return;
  }
}

// One Engine.IO packet (one WebSocket frame each on this transport). An event's payload is the
// frame object chatpipe would send (bench/peers/socketio-server.js), so it goes on to OnText.
void Conn::OnSocketIo(std::string_view packet) {
  if (packet.empty()) return;
  switch (packet[0]) {
    case '0':  // open: connect the default namespace
      return SendFrame(ws::Opcode::kText, "40");
    case '2':  // ping from the server
      return SendFrame(ws::Opcode::kText, "3");
    case '1':
      return Lost("engine.io close");
    case '4':
      break;
    default:
      return;
  }
  if (packet.size() < 2) return;
  switch (packet[1]) {
    case '0':  // namespace connected
      if (!resolved_ && !joined_ && !session_open_) {
        session_open_ = true;
        Opened();
      }
      return;
    case '1':
      return Lost("socket.io disconnect");
    case '4':
      return Fail("socket.io connect_error");
    case '2':
      if (std::string_view payload = SocketIoEventPayload(packet); !payload.empty()) return OnText(payload);
      return;
    default:
      return;
  }
}

// A Centrifuge frame: one reply per line. The connect reply opens the connection (as Socket.IO's
// namespace connect does), the subscribe reply joins, a publish reply acks the message whose seq is
// its id less kCentrifugeFirstPublishId, and a pushed publication's data is the sender's object.
void Conn::OnCentrifuge(std::string_view frame) {
  while (!frame.empty() && state_ == State::kOpen) {
    std::string_view line = NextCentrifugeReply(&frame);
    if (!line.empty()) OnCentrifugeReply(ReadCentrifugeReply(line));
  }
}

void Conn::OnCentrifugeReply(const CentrifugeReply& reply) {
  using Kind = CentrifugeReply::Kind;
  switch (reply.kind) {
    case Kind::kPing:
      return SendFrame(ws::Opcode::kText, "{}");
    case Kind::kConnect:
      if (reply.id == kCentrifugeConnectId && !resolved_ && !session_open_) {
        session_open_ = true;
        Opened();
      }
      return;
    case Kind::kSubscribe:
      if (reply.id == kCentrifugeSubscribeId && spec_.room && !joined_) {
        joined_ = true;
        stats().joined++;
        Resolve();
      }
      return;
    case Kind::kPublish:
      if (reply.id >= kCentrifugeFirstPublishId) Acked(reply.id - kCentrifugeFirstPublishId, read_ns_);
      return;
    case Kind::kError: {
      const std::string code =
          "centrifuge " + std::to_string(reply.error_code) + " " + std::string(reply.error_message);
      if (reply.id == kCentrifugeConnectId) return Fail(code);
      if (reply.id == kCentrifugeSubscribeId) {
        if (!resolved_) {
          stats().join_errors[code]++;
          Resolve();
        }
        return;
      }
      auto it = pending_.find(reply.id - kCentrifugeFirstPublishId);
      if (w_->frozen_ || reply.id < kCentrifugeFirstPublishId || it == pending_.end()) return;
      pending_.erase(it);
      w_->pending_acks_--;
      stats().send_errors[code]++;
      return;
    }
    case Kind::kPublication: {
      if (w_->frozen_) return;
      Stamp stamp;
      if (!ReadTextStamp(reply.data, w_->config_.run, &stamp)) {
        stats().foreign++;
        return;
      }
      return Deliver(stamp, std::nullopt, read_ns_);
    }
    case Kind::kBad:
      return Lost("protocol error: not a Centrifuge reply");
    case Kind::kOther:
      return;
  }
}

void Conn::OnText(std::string_view frame) {
  const int64_t now = read_ns_;
  Stamp stamp;
  switch (TypeOf(frame)) {
    case FrameType::kMessage:
      return OnMessage(frame, now);
    case FrameType::kJoined:
      if (spec_.room && !joined_) {
        joined_ = true;
        if (again_) stats().reconnected++;
        else stats().joined++;
        Resolve();
      }
      return;
    case FrameType::kAck:
      if (ReadClientMessageId(frame, w_->config_.run, &stamp)) Acked(stamp.seq, now);
      return;
    case FrameType::kError: {
      std::string code(ErrorCode(frame));
      if (ReadClientMessageId(frame, w_->config_.run, &stamp)) {
        auto it = pending_.find(stamp.seq);
        if (w_->frozen_ || it == pending_.end()) return;
        pending_.erase(it);
        w_->pending_acks_--;
        stats().send_errors[code]++;
      } else if (spec_.room && !joined_ && !resolved_) {
        stats().join_errors[code]++;
        Resolve();
      } else if (!w_->frozen_) {
        stats().send_errors[code + " (no client_msg_id)"]++;
      }
      return;
    }
    default:
      return;  // presence and anything newer
  }
}

void Conn::Acked(uint32_t seq, int64_t now) {
  if (w_->frozen_) return;
  auto it = pending_.find(seq);
  if (it == pending_.end()) return;
  stats().acked++;
  stats().acked_by_room[spec_.room]++;
  stats().ack_us.Record(static_cast<uint64_t>(std::max<int64_t>(0, now - it->second) / 1000));
  stats().timeline.Acked(it->second);
  stats().last_ack_ns = w_->last_activity_ns_ = now;
  pending_.erase(it);
  w_->pending_acks_--;
}

void Conn::OnMessage(std::string_view frame, int64_t now) {
  if (w_->frozen_) return;
  int64_t room = 0, pos = 0;
  Stamp stamp;
  if (!ReadMessage(frame, w_->config_.run, &room, &pos, &stamp)) {
    stats().foreign++;
    return;
  }
  Deliver(stamp, pos, now);
}

void Conn::Deliver(const Stamp& stamp, std::optional<int64_t> pos, int64_t now) {
  Stats& s = stats();
  s.delivered++;
  s.last_delivery_ns = w_->last_activity_ns_ = now;
  Seen& seen = SeenFor(stamp.stream());
  if (pos) {
    if (*pos <= last_pos_) s.reordered++;
    last_pos_ = std::max(last_pos_, *pos);
  } else {
    if (int64_t{stamp.seq} <= seen.max_seq) s.reordered++;
    seen.max_seq = std::max<int64_t>(seen.max_seq, stamp.seq);
  }
  if (!seen.seqs.Add(stamp.seq)) {
    s.duplicates++;
    return;
  }
  const uint64_t us = static_cast<uint64_t>(std::max<int64_t>(0, now - stamp.send_ns) / 1000);
  s.delivery_us.Record(us);
  s.delivery_us_by_room[spec_.room].Record(us);
  s.timeline.Delivered(stamp.send_ns, us);
  if (spec_.sender) s.sender_delivery_us.Record(us);
}

Conn::Seen& Conn::SeenFor(uint64_t stream) {
  if (last_seen_ < seen_.size() && seen_[last_seen_].stream == stream) return seen_[last_seen_];
  for (last_seen_ = 0; last_seen_ < seen_.size(); ++last_seen_)
    if (seen_[last_seen_].stream == stream) return seen_[last_seen_];
  seen_.push_back(Seen{stream, {}, -1});
  return seen_.back();
}

void Conn::SendMessage(int64_t due_ns) {
  Stamp stamp{w_->config_.proc, spec_.index, seq_, due_ns};
  const std::string fields = "\"room\":" + std::to_string(spec_.room) + ",\"text\":\"" +
                             StampText(w_->config_.run, stamp, w_->config_.text_bytes) + "\",\"client_msg_id\":\"" +
                             ClientMessageId(w_->config_.run, stamp) + "\"";
  if (w_->config_.peer == Peer::kCentrifugo)
    SendFrame(ws::Opcode::kText, CentrifugePublish(kCentrifugeFirstPublishId + seq_, spec_.room, "{" + fields + "}"));
  else
    SendEvent("send", "{\"type\":\"send\"," + fields + "}");
  pending_.emplace(seq_++, due_ns);
  w_->pending_acks_++;
}

void Conn::SendFrame(ws::Opcode opcode, std::string_view payload) {
  uint8_t key[4];
  w_->MaskKey(key);
  uint8_t header[ws::kMaxFrameHeader];
  const size_t n = ws::EncodeFrameHeader(opcode, payload.size(), true, key, header);
  std::string& frame = w_->frame_scratch_;
  frame.resize(n + payload.size());
  std::memcpy(frame.data(), header, n);
  ws::MaskCopy(frame.data() + n, payload.data(), payload.size(), key, 0);
  Write(frame);
}

// Straight to the socket when nothing waits before it: through the bufferevent, every frame armed
// and then disarmed its write event (two epoll_ctl calls), which at a million connections' pongs was
// most of the generator's CPU. What the socket does not take (or an error, which the bufferevent
// then reports) waits in the bufferevent, written when the socket is writable.
void Conn::Write(std::string_view bytes) {
  evbuffer* out = bufferevent_get_output(bev_);
  size_t sent = 0;
  if (!w_->config_.tls && evbuffer_get_length(out) == 0) {
    const ssize_t n = send(bufferevent_getfd(bev_), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) sent = static_cast<size_t>(n);
  }
  if (sent < bytes.size() && evbuffer_add(out, bytes.data() + sent, bytes.size() - sent) != 0) Lost("out of memory");
}

void Conn::SendEvent(std::string_view name, const std::string& json) {
  if (w_->config_.peer != Peer::kSocketIo) return SendFrame(ws::Opcode::kText, json);
  std::string packet = "42[\"";
  packet += name;
  packet += "\",";
  packet += json;
  packet += ']';
  SendFrame(ws::Opcode::kText, packet);
}

void Conn::Resolve() {
  if (resolved_) return;
  resolved_ = true;
  w_->Resolved();
}

void Conn::Fail(const std::string& reason) {
  if (state_ == State::kOpen) stats().join_errors[reason]++;
  else stats().connect_errors[reason]++;
  state_ = State::kClosed;
  if (read_event_) event_del(read_event_);
  if (bev_) {
    bufferevent_free(bev_);
    bev_ = nullptr;
  }
  Resolve();
}

void Conn::Lost(const std::string& reason) {
  if (!resolved_) return Fail(reason);
  if (!w_->frozen_) stats().closed[reason]++;
  state_ = State::kClosed;
  if (read_event_) event_del(read_event_);  // freed with the Conn: this may be its own callback
  bufferevent_free(bev_);
  bev_ = nullptr;
}

}  // namespace chatpipe::bench
