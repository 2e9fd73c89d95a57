#include "bench/loadgen/worker.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>
#include <unordered_map>

#include "bench/loadgen/centrifuge.h"
#include "bench/loadgen/seen.h"
#include "bench/loadgen/stamp.h"
#include "ingress/websocket.h"

namespace chatpipe::bench {

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

namespace {

// Every client uses the same handshake key: the server only checks its form, and one key lets the
// expected Sec-WebSocket-Accept be computed once.
constexpr const char* kHandshakeKey = "bG9hZGdlbi1rZXktMDAwMA==";
constexpr size_t kMaxResponseHeader = 16384;

std::string SocketError(const char* what, int err) { return std::string(what) + ": " + std::strerror(err); }

}  // namespace

// One WebSocket client. Lives on its Worker's loop thread only.
class Conn {
 public:
  // `again`: a visitor coming back. It counts in Stats::reconnected, not as a connection or join of
  // its own, and is resolved from the start (the worker was ready long ago).
  Conn(Worker* worker, const ConnSpec& spec, bool again = false)
      : w_(worker), spec_(spec), again_(again), resolved_(again) {}
  ~Conn() {
    if (read_event_) event_free(read_event_);
    if (bev_) bufferevent_free(bev_);
  }

  void Open();
  bool live() const { return state_ == State::kOpen && (joined_ || !spec_.room); }
  void SendMessage(int64_t due_ns);
  // At the freeze: what this connection adds to the end-of-run counts.
  void Finish(Stats* s) const {
    if (state_ == State::kOpen && joined_) s->members_by_room[spec_.room]++;
    s->unacked += pending_.size();
  }

 private:
  enum class State : uint8_t { kIdle, kConnecting, kHandshake, kOpen, kClosed };

  static void OnRead(bufferevent*, void* arg);
  static void OnReadable(evutil_socket_t fd, short, void* arg);
  static void OnEvent(bufferevent*, short events, void* arg);
  void ReadHandshake();
  void Opened();  // the WebSocket is up (for Socket.IO: its namespace is connected too)
  void ReadFrames();  // what the bufferevent read past the handshake
  void ReadDirect();  // once open: straight from the socket
  void Feed(const char* data, size_t len);
  void OnFrame(const ws::Event& event);
  void OnSocketIo(std::string_view packet);
  void OnCentrifuge(std::string_view frame);
  void OnCentrifugeReply(const CentrifugeReply& reply);
  void OnText(std::string_view frame);
  void OnMessage(std::string_view frame, int64_t now);
  // One of this run's messages reached this connection. `pos` is the server's room position; a
  // server that gives none (Centrifuge with history off) is checked for order per sender by seq.
  void Deliver(const Stamp& stamp, std::optional<int64_t> pos, int64_t now);
  void Acked(uint32_t seq, int64_t now);
  void SendFrame(ws::Opcode opcode, std::string_view payload);
  void SendEvent(std::string_view name, const std::string& json);  // chatpipe's frame, or a Socket.IO event
  void Resolve();
  void Fail(const std::string& reason);  // while connecting or joining
  void Lost(const std::string& reason);  // once open: the server or the network ended it
  Stats& stats() { return w_->stats_; }

  Worker* w_;
  ConnSpec spec_;
  bufferevent* bev_ = nullptr;
  // Once the WebSocket is open, reads bypass the bufferevent: its FIONREAD ioctl before every read
  // and its buffer chains cost about a sixth of the generator's time at a million frames a second.
  event* read_event_ = nullptr;
  State state_ = State::kIdle;
  const bool again_;
  bool resolved_;
  bool joined_ = false;
  bool session_open_ = false;  // Socket.IO: the namespace is connected; Centrifuge: connect was accepted
  int64_t open_start_ns_ = 0;
  ws::FrameDecoder decoder_{ws::Role::kClient, 1 << 20};
  uint32_t seq_ = 0;
  std::unordered_map<uint32_t, int64_t> pending_;  // seq -> due time, until acked or refused
  int64_t last_pos_ = 0;
  // Per sending stream, the seqs delivered and the highest seq seen. A room has few senders, so a
  // short vector searched from the last hit beats hashing on every delivery.
  struct Seen {
    uint64_t stream = 0;
    SeenSeqs seqs;
    int64_t max_seq = -1;
  };
  std::vector<Seen> seen_;
  size_t last_seen_ = 0;
  int64_t read_ns_ = 0;  // when the frames being read arrived: one clock read per socket read
  Seen& SeenFor(uint64_t stream);
};

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
  bev_ = bufferevent_socket_new(w_->base_, fd, BEV_OPT_CLOSE_ON_FREE);
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
    if (c->w_->config_.peer == Peer::kCentrifuge) path = "/connection/websocket";
    std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + c->w_->config_.host_header +
                          "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + kHandshakeKey +
                          "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    bufferevent_write(c->bev_, request.data(), request.size());
    return;
  }
  std::string why = (events & BEV_EVENT_TIMEOUT) ? "timeout"
                    : (events & BEV_EVENT_EOF)   ? "eof"
                                                 : SocketError("socket", EVUTIL_SOCKET_ERROR());
  if (c->state_ == State::kOpen) return c->Lost(why);
  c->Fail(c->state_ == State::kConnecting ? "connect " + why : "handshake " + why);
}

void Conn::OnRead(bufferevent*, void* arg) {
  auto* c = static_cast<Conn*>(arg);
  if (c->state_ == State::kHandshake) c->ReadHandshake();
  if (c->state_ == State::kOpen) c->ReadFrames();
  if (c->state_ != State::kOpen || c->read_event_) return;
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
  if (w_->config_.peer == Peer::kCentrifuge) return SendFrame(ws::Opcode::kText, CentrifugeConnect());
  Opened();
}

void Conn::Opened() {
  bufferevent_set_timeouts(bev_, nullptr, nullptr);  // idle connections stay
  if (!again_) {
    stats().connected++;
    stats().connect_us.Record(static_cast<uint64_t>((NowNs() - open_start_ns_) / 1000));
  }
  if (!spec_.room) return Resolve();
  if (w_->config_.peer == Peer::kCentrifuge) return SendFrame(ws::Opcode::kText, CentrifugeSubscribe(spec_.room));
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
      if (w_->config_.peer == Peer::kCentrifuge) return OnCentrifuge(event.payload);
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
  if (w_->config_.peer == Peer::kCentrifuge)
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
  evbuffer* out = bufferevent_get_output(bev_);
  evbuffer_add(out, header, n);
  evbuffer_iovec vec;
  if (evbuffer_reserve_space(out, static_cast<ev_ssize_t>(payload.size()), &vec, 1) < 1) return Lost("out of memory");
  ws::MaskCopy(static_cast<char*>(vec.iov_base), payload.data(), payload.size(), key, 0);
  vec.iov_len = payload.size();
  evbuffer_commit_space(out, &vec, 1);
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

// --- Worker ---

Worker::Worker(WorkerConfig config, std::vector<ConnSpec> specs)
    : config_(std::move(config)), specs_(std::move(specs)), rng_(std::random_device{}()) {
  event_config* cfg = event_config_new();
  event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);  // the schedule wants sub-ms timers
  base_ = event_base_new_with_config(cfg);
  event_config_free(cfg);
  tick_ = event_new(base_, -1, EV_PERSIST, OnTick, this);
  send_timer_ = evtimer_new(base_, OnSendTimer, this);
  for (const ConnSpec& spec : specs_) {
    conns_.push_back(std::make_unique<Conn>(this, spec));
    if (spec.sender && spec.room) senders_.push_back(conns_.back().get());
    if (spec.visitor) visitors_.push_back(conns_.size() - 1);
  }
}

Worker::~Worker() {
  Quit();
  conns_.clear();
  event_free(send_timer_);
  event_free(tick_);
  event_base_free(base_);
}

void Worker::Start() {
  thread_ = std::thread([this] {
    const timeval every{0, 10000};
    event_add(tick_, &every);
    stats_.connect_start_ns = NowNs();
    if (conns_.empty()) {
      stats_.connect_done_ns = stats_.connect_start_ns;
      ready_.store(true, std::memory_order_release);
    }
    StartNext();
    event_base_dispatch(base_);
  });
}

void Worker::Quit() {
  quit_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
}

void Worker::StartNext() {
  static thread_local bool starting = false;  // a connection failing at once re-enters through Resolved
  if (starting) return;
  starting = true;
  while (next_to_start_ < conns_.size() &&
         next_to_start_ - resolved_ < static_cast<size_t>(config_.connect_concurrency))
    conns_[next_to_start_++]->Open();
  starting = false;
}

void Worker::Resolved() {
  ++resolved_;
  if (resolved_ == conns_.size()) {
    stats_.connect_done_ns = NowNs();
    ready_.store(true, std::memory_order_release);
    return;
  }
  StartNext();
}

void Worker::OnTick(int, short, void* arg) {
  auto* w = static_cast<Worker*>(arg);
  if (w->quit_.load(std::memory_order_acquire)) {
    event_base_loopbreak(w->base_);
    return;
  }
  if (w->frozen_) return;
  const int64_t now = NowNs();
  if (!w->start_) {
    const int64_t start = w->start_ns_.load(std::memory_order_acquire);
    if (!start) return;
    w->start_ = start;
    w->stats_.timeline.Start(start, w->config_.window_ns);
    w->last_activity_ns_ = start + w->config_.duration_ns;
    if (w->config_.rate > 0) w->ScheduleSend(now);
    return;
  }
  const int64_t end = w->start_ + w->config_.duration_ns;
  if (now < end) return w->Churn(now);
  const bool quiet = w->pending_acks_ == 0 && now - w->last_activity_ns_ >= w->config_.quiet_ns;
  if (quiet) return w->Freeze();
  if (now >= end + w->config_.drain_ns) {
    w->stats_.drain_cut = 1;
    w->Freeze();
  }
}

void Worker::ScheduleSend(int64_t now_ns) {
  const int64_t due = start_ + static_cast<int64_t>(static_cast<double>(scheduled_) * 1e9 / config_.rate);
  if (due >= start_ + config_.duration_ns) return;
  const int64_t wait_us = std::max<int64_t>(0, (due - now_ns) / 1000);
  const timeval tv{static_cast<time_t>(wait_us / 1'000'000), static_cast<suseconds_t>(wait_us % 1'000'000)};
  evtimer_add(send_timer_, &tv);
}

void Worker::OnSendTimer(int, short, void* arg) { static_cast<Worker*>(arg)->SendDue(); }

// Sends every message whose due time has come (all of them at once if the thread fell behind),
// then sleeps until the next one is due.
void Worker::SendDue() {
  if (frozen_) return;
  const int64_t now = NowNs();
  const int64_t end = start_ + config_.duration_ns;
  for (;;) {
    const int64_t due = start_ + static_cast<int64_t>(static_cast<double>(scheduled_) * 1e9 / config_.rate);
    if (due >= end) return;
    if (due > now + 20'000) return ScheduleSend(now);  // not due within 20 us: sleep
    Conn* to = nullptr;
    for (size_t tries = 0; tries < senders_.size() && !to; ++tries) {
      Conn* c = senders_[next_sender_++ % senders_.size()];
      if (c->live()) to = c;
    }
    ++scheduled_;
    if (!to) {
      stats_.not_sent++;
      continue;
    }
    to->SendMessage(due);
    stats_.sent++;
    stats_.timeline.Sent(due);
    if (!stats_.first_send_ns) stats_.first_send_ns = now;
    stats_.last_send_ns = now;
    stats_.lag_us.Record(static_cast<uint64_t>(std::max<int64_t>(0, now - due) / 1000));
  }
}

// Visitors leave and come back at the churn rate, in turn: the old connection closes (the server
// sees the socket end), and a new one opens and joins the same room. Those still coming back from
// their last turn wait for the next. Runs from the tick, never inside a connection's callback.
void Worker::Churn(int64_t now_ns) {
  if (config_.churn <= 0 || visitors_.empty() || now_ns < start_) return;  // the start may be a moment ahead
  const auto due = static_cast<uint64_t>(static_cast<double>(now_ns - start_) * config_.churn / 1e9);
  for (; churned_ < due; ++churned_) {
    const size_t index = visitors_[next_visitor_++ % visitors_.size()];
    if (!conns_[index]->live()) continue;
    conns_[index] = std::make_unique<Conn>(this, specs_[index], true);
    conns_[index]->Open();
  }
}

void Worker::Freeze() {
  frozen_ = true;
  event_del(send_timer_);
  for (const auto& c : conns_) c->Finish(&stats_);
  done_.store(true, std::memory_order_release);
}

void Worker::MaskKey(uint8_t key[4]) {
  const uint64_t r = rng_();
  std::memcpy(key, &r, 4);
}

}  // namespace chatpipe::bench
