#include "bench/loadgen/board_run.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/tcp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include "bench/loadgen/board.h"
#include "bench/loadgen/files.h"
#include "bench/loadgen/histogram.h"
#include "bench/loadgen/http_response.h"
#include "bench/loadgen/proc_cpu.h"
#include "bench/loadgen/run.h"
#include "bench/loadgen/worker.h"
#include "bench/machine.h"
#include "ingress/websocket.h"
#include "tests/support/http_client.h"

namespace chatpipe::bench {
namespace {

constexpr const char* kHandshakeKey = "bG9hZGdlbi1rZXktMDAwMA==";
constexpr size_t kMaxHead = 65536;

void SleepUntilNs(int64_t t) {
  const int64_t now = NowNs();
  if (t > now) std::this_thread::sleep_for(std::chrono::nanoseconds(t - now));
}

// A non-blocking TCP connection from `source` to the server, in a bufferevent of `base`.
bufferevent* Connect(event_base* base, in_addr source, const sockaddr_in& server, std::string* error) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return nullptr;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr = source;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
    *error = std::string("bind: ") + std::strerror(errno);
    close(fd);
    return nullptr;
  }
  bufferevent* bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    close(fd);
    *error = "bufferevent_socket_new failed";
    return nullptr;
  }
  bufferevent_set_max_single_read(bev, 256 * 1024);
  if (bufferevent_socket_connect(bev, reinterpret_cast<const sockaddr*>(&server), sizeof server) < 0) {
    *error = std::string("connect: ") + std::strerror(errno);
    bufferevent_free(bev);
    return nullptr;
  }
  return bev;
}

in_addr SourceAddress(int i, int source_ips) {
  in_addr a{};
  a.s_addr = htonl((127u << 24) | static_cast<uint32_t>(2 + i % source_ips));
  return a;
}

// ---- placements (HTTP or WebSocket) and board reads (HTTP) ---------------------------------------

struct GenStats {
  uint64_t sent = 0;
  uint64_t answered = 0;          // answers counted (reads: those in the window)
  uint64_t not_sent = 0;          // placements of the schedule never sent (the drain ended first)
  uint64_t in_flight_at_end = 0;  // sent and unanswered when the thread stopped
  uint64_t body_bytes = 0;
  uint64_t wrong_size = 0;        // a 200 board whose length is not the board's
  uint64_t lost_connections = 0;
  // Answers by HTTP status ("202", "429"), or over a WebSocket by frame: "placed", or an error's code.
  std::map<std::string, uint64_t> by_status;
  std::map<std::string, uint64_t> errors;  // the connection failed or ended under a request
  Histogram answer_us;  // placements: due -> 202 (placed); reads: request written -> answer
  Histogram lag_us;     // placements: due -> written
  Histogram written_us; // placements: written -> 202 (the server's part of send->202)
  uint64_t accepted_in_window = 0;  // placements: 202s that came within the window
  int64_t last_answer_ns = 0;

  void Merge(const GenStats& o) {
    sent += o.sent, answered += o.answered, not_sent += o.not_sent, in_flight_at_end += o.in_flight_at_end;
    body_bytes += o.body_bytes, wrong_size += o.wrong_size, lost_connections += o.lost_connections;
    for (const auto& [k, v] : o.by_status) by_status[k] += v;
    for (const auto& [k, v] : o.errors) errors[k] += v;
    answer_us.Merge(o.answer_us);
    lag_us.Merge(o.lag_us);
    written_us.Merge(o.written_us);
    accepted_in_window += o.accepted_in_window;
    last_answer_ns = std::max(last_answer_ns, o.last_answer_ns);
  }
};

struct GenThreadConfig {
  sockaddr_in server{};
  std::string host;
  int64_t duration_ns = 0;
  int64_t drain_ns = 0;
  // Placing: placements first, first + step, ... below count, of the run's schedule, as PUT
  // /api/board/pixels or, with via_ws, as `place` frames of a WebSocket per connection.
  bool placing = false;
  bool via_ws = false;
  uint64_t first = 0, step = 1, count = 0;
  std::atomic<int64_t>* sent_ns = nullptr;  // per placement, for the subscribers
  // Reading: this request again and again; a 200 must carry expect_body bytes.
  std::string read_request;
  uint64_t expect_body = 0;
};

class GenThread;

// One connection of a generator thread, one request at a time: a keep-alive HTTP/1.1 connection
// (placing or reading) or a WebSocket (placing). It tells its thread when it opened, was answered
// or ended.
class GenConn {
 public:
  GenConn(GenThread* t, in_addr source, std::string token) : t_(t), source_(source), token_(std::move(token)) {}
  virtual ~GenConn() {
    if (bev_) bufferevent_free(bev_);
  }
  void Open();
  const std::string& token() const { return token_; }
  // `request` in the connection's form (an HTTP request, a WebSocket frame); `tag` names the
  // placement, `since_ns` is when it was due.
  void Send(std::string_view request, uint64_t tag, int64_t since_ns);

 protected:
  enum class State : uint8_t { kNew, kConnecting, kHandshake, kIdle, kBusy, kClosed };
  virtual void Connected() = 0;  // the TCP connection is up
  virtual void Read() = 0;
  void Close(const std::string& why);

  GenThread* t_;
  in_addr source_;
  std::string token_;
  bufferevent* bev_ = nullptr;
  State state_ = State::kNew;
  uint64_t tag_ = 0;
  int64_t since_ns_ = 0;
  int64_t written_ns_ = 0;

 private:
  static void OnEvent(bufferevent*, short events, void* arg);
  static void OnRead(bufferevent*, void* arg) { static_cast<GenConn*>(arg)->Read(); }
};

// PUT /api/board/pixels or GET /api/board, keep-alive.
class HttpConn : public GenConn {
 public:
  using GenConn::GenConn;

 private:
  void Connected() override;
  void Read() override;

  bool in_body_ = false;
  ResponseHead head_;
  uint64_t body_left_ = 0;
};

// A WebSocket of its own guest user sending `place` frames, answered by `placed` or `error`.
class WsPlacer : public GenConn {
 public:
  using GenConn::GenConn;

 private:
  void Connected() override;
  void Read() override;
  void SendFrame(std::string_view payload, ws::Opcode opcode);

  ws::FrameDecoder decoder_{ws::Role::kClient, 1u << 20};
};

class GenThread {
 public:
  GenThread(GenThreadConfig config, const std::vector<std::pair<in_addr, std::string>>& conns)
      : c_(std::move(config)) {
    event_config* cfg = event_config_new();
    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    base_ = event_base_new_with_config(cfg);
    event_config_free(cfg);
    tick_ = event_new(base_, -1, EV_PERSIST, OnTick, this);
    for (const auto& [source, token] : conns) {
      if (c_.via_ws) conns_.push_back(std::make_unique<WsPlacer>(this, source, token));
      else conns_.push_back(std::make_unique<HttpConn>(this, source, token));
    }
  }
  ~GenThread() {
    Quit();
    conns_.clear();
    event_free(tick_);
    event_base_free(base_);
  }

  void Start() {
    thread_ = std::thread([this] {
      const timeval every{0, 500};
      event_add(tick_, &every);
      for (auto& c : conns_) c->Open();
      if (conns_.empty()) ready_.store(true, std::memory_order_release);
      event_base_dispatch(base_);
    });
  }
  bool ready() const { return ready_.load(std::memory_order_acquire); }
  void Go(const BoardSchedule* schedule, int64_t start_ns) {
    schedule_ = schedule;
    start_ns_.store(start_ns, std::memory_order_release);
  }
  bool done() const { return done_.load(std::memory_order_acquire); }
  void Quit() {
    quit_.store(true, std::memory_order_release);
    if (thread_.joinable()) thread_.join();
  }
  const GenStats& stats() const { return stats_; }    // once done()
  const PixelSet* acked() const { return acked_.get(); }  // once done()
  uint64_t opened() const { return opened_; }          // once ready()

  event_base* base() { return base_; }
  const GenThreadConfig& config() const { return c_; }
  void MaskKey(uint8_t key[4]) {
    const uint64_t r = rng_();
    std::memcpy(key, &r, 4);
  }

  void Opened(GenConn* c) {
    ++opened_;
    idle_.push_back(c);
    Resolved();
  }
  void FailedToOpen(const std::string& why) {
    stats_.errors["connect: " + why]++;
    Resolved();
  }
  // The connection ended; `busy` if it ended under a request.
  void Lost(GenConn* c, const std::string& why, bool busy) {
    idle_.erase(std::remove(idle_.begin(), idle_.end(), c), idle_.end());
    if (frozen_) return;
    stats_.lost_connections++;
    if (busy) {
      --busy_;
      stats_.errors[why]++;
    }
  }
  // An answered connection takes the next request, unless the server closed it (Connection: close,
  // counted as lost); false once the thread has stopped counting.
  bool Freed(GenConn* c, bool reusable) {
    --busy_;
    if (reusable) idle_.push_back(c);
    if (frozen_) return false;
    if (!reusable) stats_.lost_connections++;
    return true;
  }
  // A placement's answer: `status` as GenStats::by_status names it, `accepted` for 202 or `placed`;
  // the connection takes the next one unless it is not `reusable` (the server said Connection: close).
  void Placed(GenConn* c, uint64_t tag, int64_t since_ns, int64_t written_ns, const std::string& status, bool accepted,
              bool reusable) {
    if (!Freed(c, reusable)) return;
    const int64_t now = NowNs();
    stats_.answered++;
    stats_.by_status[status]++;
    stats_.last_answer_ns = now;
    if (!accepted) return Pump(now);
    acked_->Add(tag);
    if (now <= start_ + c_.duration_ns) stats_.accepted_in_window++;
    stats_.answer_us.Record(static_cast<uint64_t>(std::max<int64_t>(0, now - since_ns) / 1000));
    stats_.written_us.Record(static_cast<uint64_t>(std::max<int64_t>(0, now - written_ns) / 1000));
    Pump(now);
  }
  // An HTTP answer: a placement's, or a read's.
  void Answered(GenConn* c, uint64_t tag, int64_t since_ns, int64_t written_ns, const ResponseHead& head, bool reusable) {
    if (c_.placing)
      return Placed(c, tag, since_ns, written_ns, std::to_string(head.status), head.status == 202, reusable);
    if (!Freed(c, reusable)) return;
    const int64_t now = NowNs();
    if (now > start_ + c_.duration_ns) return;  // past the window: not counted
    stats_.answered++;
    stats_.by_status[std::to_string(head.status)]++;
    stats_.body_bytes += head.content_length;
    if (head.status == 200 && head.content_length != c_.expect_body) stats_.wrong_size++;
    stats_.answer_us.Record(static_cast<uint64_t>(std::max<int64_t>(0, now - since_ns) / 1000));
    stats_.last_answer_ns = now;
    Pump(now);
  }
  void Busy() { ++busy_; }

 private:
  static void OnTick(evutil_socket_t, short, void* arg) { static_cast<GenThread*>(arg)->Tick(); }

  void Resolved() {
    if (++resolved_ == conns_.size()) ready_.store(true, std::memory_order_release);
  }

  void Tick() {
    if (quit_.load(std::memory_order_acquire)) {
      event_base_loopbreak(base_);
      return;
    }
    if (frozen_) return;
    const int64_t now = NowNs();
    if (!start_) {
      start_ = start_ns_.load(std::memory_order_acquire);
      if (!start_) return;
      if (c_.placing) acked_ = std::make_unique<PixelSet>(c_.count);
    }
    if (now < start_) return;
    Pump(now);
    const int64_t end = start_ + c_.duration_ns;
    const bool all_sent = c_.placing ? NextPlacement() >= c_.count : now >= end;
    if ((all_sent && busy_ == 0) || now >= end + c_.drain_ns) Freeze();
  }

  uint64_t NextPlacement() const { return c_.first + next_ * c_.step; }

  // Placement `p`, in the form `c` sends it.
  const std::string& PlacementRequest(const GenConn& c, const BoardPixel& p) {
    request_.clear();
    if (c_.via_ws) {
      uint8_t key[4];
      MaskKey(key);
      request_ = ws::EncodeFrame(ws::Opcode::kText, PlaceFrame(p), key);
      return request_;
    }
    const std::string body =
        "{\"x\":" + std::to_string(p.x) + ",\"y\":" + std::to_string(p.y) + ",\"color\":" + std::to_string(p.color) + "}";
    request_ += "PUT /api/board/pixels HTTP/1.1\r\nHost: ";
    request_ += c_.host;
    request_ += "\r\nAuthorization: Bearer ";
    request_ += c.token();
    request_ += "\r\nContent-Type: application/json\r\nContent-Length: ";
    request_ += std::to_string(body.size());
    request_ += "\r\n\r\n";
    request_ += body;
    return request_;
  }

  // Sends what is due on the free connections: the schedule's placements (open loop: a placement
  // that finds every connection busy waits, and its wait counts in its latency), or the next read.
  void Pump(int64_t now) {
    if (frozen_ || !start_ || now < start_) return;
    if (!c_.placing) {
      if (now >= start_ + c_.duration_ns) return;
      while (!idle_.empty()) {
        GenConn* c = idle_.back();
        idle_.pop_back();
        stats_.sent++;
        c->Send(c_.read_request, 0, now);
      }
      return;
    }
    while (!idle_.empty()) {
      const uint64_t k = NextPlacement();
      if (k >= c_.count) return;
      const int64_t due = schedule_->DueNs(k);
      if (due > now) return;
      GenConn* c = idle_.back();
      idle_.pop_back();
      const std::string& request = PlacementRequest(*c, schedule_->At(k));
      c_.sent_ns[k].store(now, std::memory_order_release);
      ++next_;
      stats_.sent++;
      stats_.lag_us.Record(static_cast<uint64_t>(std::max<int64_t>(0, now - due) / 1000));
      c->Send(request, k, due);
    }
  }

  void Freeze() {
    frozen_ = true;
    stats_.in_flight_at_end = busy_;
    if (c_.placing) stats_.not_sent = c_.count > NextPlacement() ? (c_.count - NextPlacement() + c_.step - 1) / c_.step : 0;
    done_.store(true, std::memory_order_release);
  }

  GenThreadConfig c_;
  const BoardSchedule* schedule_ = nullptr;
  event_base* base_ = nullptr;
  event* tick_ = nullptr;
  std::vector<std::unique_ptr<GenConn>> conns_;
  std::vector<GenConn*> idle_;
  size_t resolved_ = 0;
  uint64_t opened_ = 0;
  uint64_t busy_ = 0;
  uint64_t next_ = 0;  // placements of this thread sent so far
  int64_t start_ = 0;
  bool frozen_ = false;
  std::string request_;
  GenStats stats_;
  std::unique_ptr<PixelSet> acked_;
  std::mt19937_64 rng_{std::random_device{}()};
  std::thread thread_;
  std::atomic<bool> ready_{false}, done_{false}, quit_{false};
  std::atomic<int64_t> start_ns_{0};
};

void GenConn::Open() {
  std::string error;
  bev_ = Connect(t_->base(), source_, t_->config().server, &error);
  if (!bev_) {
    state_ = State::kClosed;
    return t_->FailedToOpen(error);
  }
  state_ = State::kConnecting;
  bufferevent_setcb(bev_, OnRead, nullptr, OnEvent, this);
  bufferevent_enable(bev_, EV_READ | EV_WRITE);
}

void GenConn::OnEvent(bufferevent*, short events, void* arg) {
  auto* c = static_cast<GenConn*>(arg);
  if (events & BEV_EVENT_CONNECTED) return c->Connected();
  c->Close((events & BEV_EVENT_EOF) ? "eof" : std::string("socket: ") + std::strerror(EVUTIL_SOCKET_ERROR()));
}

void GenConn::Send(std::string_view request, uint64_t tag, int64_t since_ns) {
  state_ = State::kBusy;
  tag_ = tag;
  since_ns_ = since_ns;
  written_ns_ = NowNs();
  t_->Busy();
  bufferevent_write(bev_, request.data(), request.size());
}

void GenConn::Close(const std::string& why) {
  const State was = state_;
  state_ = State::kClosed;
  if (bev_) {
    bufferevent_free(bev_);
    bev_ = nullptr;
  }
  if (was == State::kConnecting || was == State::kHandshake) return t_->FailedToOpen(why);
  t_->Lost(this, why, was == State::kBusy);
}

void HttpConn::Connected() {
  state_ = State::kIdle;
  t_->Opened(this);
}

void HttpConn::Read() {
  evbuffer* in = bufferevent_get_input(bev_);
  while (state_ == State::kBusy) {
    if (!in_body_) {
      evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, nullptr);
      if (end.pos < 0) {
        if (evbuffer_get_length(in) > kMaxHead) Close("response head too long");
        return;
      }
      const size_t len = static_cast<size_t>(end.pos) + 4;
      std::string_view head(reinterpret_cast<const char*>(evbuffer_pullup(in, static_cast<ssize_t>(len))), len);
      size_t used = 0;
      if (ParseResponseHead(head, &head_, &used) != HeadResult::kDone) return Close("unreadable response");
      head_.etag = {};  // points into the buffer about to be drained
      evbuffer_drain(in, used);
      in_body_ = true;
      body_left_ = head_.status == 304 || head_.status == 204 ? 0 : head_.content_length;
    }
    const uint64_t n = std::min<uint64_t>(body_left_, evbuffer_get_length(in));
    evbuffer_drain(in, n);
    body_left_ -= n;
    if (body_left_ > 0) return;
    in_body_ = false;
    const bool reusable = !head_.close;
    state_ = reusable ? State::kIdle : State::kClosed;
    t_->Answered(this, tag_, since_ns_, written_ns_, head_, reusable);
    if (!reusable) {
      bufferevent_free(bev_);
      bev_ = nullptr;
      return;
    }
  }
  if (evbuffer_get_length(in) > 0 && state_ == State::kIdle) Close("bytes with no request");
}

std::string UpgradeRequest(const std::string& host, const std::string& token) {
  return "GET /ws?token=" + token + " HTTP/1.1\r\nHost: " + host +
         "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + kHandshakeKey +
         "\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

// Reads the answer to UpgradeRequest from `in`: 1 once it was 101 (drained), 0 while it is not all
// there, -1 on a refusal (why in *error).
int ReadUpgrade(evbuffer* in, std::string* error) {
  evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, nullptr);
  if (end.pos < 0) return 0;
  const size_t len = static_cast<size_t>(end.pos) + 4;
  std::string_view head(reinterpret_cast<const char*>(evbuffer_pullup(in, static_cast<ssize_t>(len))), len);
  static const std::string accept = ws::AcceptKey(kHandshakeKey);
  if (head.substr(0, 13) != "HTTP/1.1 101 ") {
    *error = "handshake: " + std::string(head.substr(0, head.find('\r')));
    return -1;
  }
  if (head.find(accept) == std::string_view::npos) {
    *error = "handshake: wrong Sec-WebSocket-Accept";
    return -1;
  }
  evbuffer_drain(in, len);
  return 1;
}

void WsPlacer::Connected() {
  state_ = State::kHandshake;
  const std::string request = UpgradeRequest(t_->config().host, token_);
  bufferevent_write(bev_, request.data(), request.size());
}

void WsPlacer::Read() {
  evbuffer* in = bufferevent_get_input(bev_);
  if (state_ == State::kHandshake) {
    std::string error;
    const int upgraded = ReadUpgrade(in, &error);
    if (upgraded < 0) return Close(error);
    if (upgraded == 0) return;
    state_ = State::kIdle;
    t_->Opened(this);
  }
  while (state_ == State::kIdle || state_ == State::kBusy) {
    const size_t len = evbuffer_get_contiguous_space(in);
    if (len == 0) return;
    const char* data = reinterpret_cast<const char*>(evbuffer_pullup(in, static_cast<ssize_t>(len)));
    size_t used = 0;
    while (used < len && (state_ == State::kIdle || state_ == State::kBusy)) {
      ws::Event event;
      used += decoder_.Feed(data + used, len - used, &event);
      if (decoder_.failed()) return Close("protocol error: " + decoder_.error_reason());
      if (event.type == ws::Event::Type::kPing) SendFrame(event.payload, ws::Opcode::kPong);
      if (event.type == ws::Event::Type::kClose) return Close("close " + std::to_string(event.close_code));
      if (event.type != ws::Event::Type::kText) continue;
      const std::string_view type = BoardFrameType(event.payload);
      if (type != "placed" && type != "error") continue;
      if (state_ != State::kBusy) return Close("an answer with no placement: " + std::string(event.payload.substr(0, 200)));
      state_ = State::kIdle;
      std::string status = type == "placed" ? "placed" : std::string(ErrorFrameCode(event.payload));
      t_->Placed(this, tag_, since_ns_, written_ns_, status.empty() ? "unreadable error" : status, type == "placed", true);
    }
    if (state_ != State::kIdle && state_ != State::kBusy) return;
    evbuffer_drain(in, len);
  }
}

void WsPlacer::SendFrame(std::string_view payload, ws::Opcode opcode) {
  uint8_t key[4];
  t_->MaskKey(key);
  const std::string frame = ws::EncodeFrame(opcode, payload, key);
  bufferevent_write(bev_, frame.data(), frame.size());
}

// ---- WebSocket subscribers ---------------------------------------------------------------------

struct SubStats {
  uint64_t subscribed = 0;
  uint64_t frames = 0;
  uint64_t pixels = 0;      // pixels of this run's placements, duplicates included
  uint64_t duplicates = 0;  // a subscriber saw a placement twice
  uint64_t foreign = 0;     // a pixel that is no placement of this run (or came before the start)
  uint64_t malformed = 0;   // a pixels frame this reader could not read
  uint64_t version_gaps = 0;  // a frame whose prev was not the v of the one before it
  uint64_t version_overlaps = 0;  // ... or was below it
  std::map<std::string, uint64_t> errors;  // connect, handshake, close, error frames
  Histogram due_us;   // due time -> the frame that carried it, per subscriber
  Histogram sent_us;  // written -> the frame
};

class SubThread;

class Subscriber {
 public:
  Subscriber(SubThread* t, in_addr source, std::string token, uint64_t capacity)
      : t_(t), source_(source), token_(std::move(token)), seen_(capacity) {}
  ~Subscriber() {
    if (bev_) bufferevent_free(bev_);
  }
  void Open();
  const PixelSet& seen() const { return seen_; }
  bool closed() const { return state_ == State::kClosed; }

 private:
  enum class State : uint8_t { kConnecting, kHandshake, kOpen, kClosed };
  static void OnEvent(bufferevent*, short events, void* arg);
  static void OnRead(bufferevent*, void* arg) { static_cast<Subscriber*>(arg)->Read(); }
  void Read();
  void OnText(std::string_view frame, int64_t now);
  void SendText(std::string_view payload, ws::Opcode opcode = ws::Opcode::kText);
  void Fail(const std::string& why);

  SubThread* t_;
  in_addr source_;
  std::string token_;
  bufferevent* bev_ = nullptr;
  State state_ = State::kConnecting;
  bool subscribed_ = false;
  ws::FrameDecoder decoder_{ws::Role::kClient, 64u << 20};
  PixelSet seen_;
  int64_t last_v_ = -1;
};

class SubThread {
 public:
  SubThread(sockaddr_in server, std::string host, uint64_t count, std::atomic<int64_t>* sent_ns,
            const std::vector<std::pair<in_addr, std::string>>& subs)
      : server_(server), host_(std::move(host)), count_(count), sent_ns_(sent_ns) {
    base_ = event_base_new();
    tick_ = event_new(base_, -1, EV_PERSIST, OnTick, this);
    for (const auto& [source, token] : subs) subs_.push_back(std::make_unique<Subscriber>(this, source, token, count));
  }
  ~SubThread() {
    Quit();
    subs_.clear();
    event_free(tick_);
    event_base_free(base_);
  }
  void Start() {
    thread_ = std::thread([this] {
      const timeval every{0, 10000};
      event_add(tick_, &every);
      for (auto& s : subs_) s->Open();
      if (subs_.empty()) ready_.store(true, std::memory_order_release);
      event_base_dispatch(base_);
    });
  }
  bool ready() const { return ready_.load(std::memory_order_acquire); }
  void Go(const BoardSchedule* schedule) { schedule_.store(schedule, std::memory_order_release); }
  // Once every placement in `acked` reached every open subscriber, or at `deadline_ns`, it stops counting.
  void Finish(const PixelSet* acked, int64_t deadline_ns) {
    deadline_ns_.store(deadline_ns, std::memory_order_release);
    acked_.store(acked, std::memory_order_release);
  }
  bool done() const { return done_.load(std::memory_order_acquire); }
  void Quit() {
    quit_.store(true, std::memory_order_release);
    if (thread_.joinable()) thread_.join();
  }
  const SubStats& stats() const { return stats_; }  // once done()
  // Per subscriber, the acked placements it never saw (once done()).
  std::vector<uint64_t> Missing(const PixelSet& acked) const {
    std::vector<uint64_t> m;
    for (const auto& s : subs_) m.push_back(s->seen().Missing(acked));
    return m;
  }
  int64_t complete_ns() const { return complete_ns_; }  // every subscriber had every ack; 0: never

  event_base* base() { return base_; }
  const sockaddr_in& server() const { return server_; }
  const std::string& host() const { return host_; }
  SubStats& mutable_stats() { return stats_; }
  bool frozen() const { return frozen_; }
  const BoardSchedule* schedule() const { return schedule_.load(std::memory_order_acquire); }
  uint64_t count() const { return count_; }
  int64_t SentNs(uint64_t k) const { return sent_ns_[k].load(std::memory_order_acquire); }
  void MaskKey(uint8_t key[4]) {
    const uint64_t r = rng_();
    std::memcpy(key, &r, 4);
  }
  void Subscribed() {
    stats_.subscribed++;
    Resolved();
  }
  void Resolved() {
    if (++resolved_ == subs_.size()) ready_.store(true, std::memory_order_release);
  }

 private:
  static void OnTick(evutil_socket_t, short, void* arg) { static_cast<SubThread*>(arg)->Tick(); }
  void Tick() {
    if (quit_.load(std::memory_order_acquire)) {
      event_base_loopbreak(base_);
      return;
    }
    const PixelSet* acked = acked_.load(std::memory_order_acquire);
    if (frozen_ || !acked) return;
    bool all = true;
    for (const auto& s : subs_) all = all && (s->closed() || s->seen().Missing(*acked) == 0);
    const int64_t now = NowNs();
    if (all) complete_ns_ = now;
    if (all || now >= deadline_ns_.load(std::memory_order_acquire)) {
      frozen_ = true;
      done_.store(true, std::memory_order_release);
    }
  }

  sockaddr_in server_;
  std::string host_;
  uint64_t count_;
  std::atomic<int64_t>* sent_ns_;
  event_base* base_ = nullptr;
  event* tick_ = nullptr;
  std::vector<std::unique_ptr<Subscriber>> subs_;
  size_t resolved_ = 0;
  bool frozen_ = false;
  int64_t complete_ns_ = 0;
  SubStats stats_;
  std::mt19937_64 rng_{std::random_device{}()};
  std::thread thread_;
  std::atomic<bool> ready_{false}, done_{false}, quit_{false};
  std::atomic<const BoardSchedule*> schedule_{nullptr};
  std::atomic<const PixelSet*> acked_{nullptr};
  std::atomic<int64_t> deadline_ns_{0};
};

void Subscriber::Open() {
  std::string error;
  bev_ = Connect(t_->base(), source_, t_->server(), &error);
  if (!bev_) return Fail("connect: " + error);
  bufferevent_setcb(bev_, OnRead, nullptr, OnEvent, this);
  bufferevent_enable(bev_, EV_READ | EV_WRITE);
}

void Subscriber::OnEvent(bufferevent*, short events, void* arg) {
  auto* s = static_cast<Subscriber*>(arg);
  if (events & BEV_EVENT_CONNECTED) {
    s->state_ = State::kHandshake;
    const std::string request = UpgradeRequest(s->t_->host(), s->token_);
    bufferevent_write(s->bev_, request.data(), request.size());
    return;
  }
  s->Fail((events & BEV_EVENT_EOF) ? "eof" : std::string("socket: ") + std::strerror(EVUTIL_SOCKET_ERROR()));
}

void Subscriber::Read() {
  evbuffer* in = bufferevent_get_input(bev_);
  if (state_ == State::kHandshake) {
    std::string error;
    const int upgraded = ReadUpgrade(in, &error);
    if (upgraded < 0) return Fail(error);
    if (upgraded == 0) return;
    state_ = State::kOpen;
    SendText("{\"type\":\"board_subscribe\"}");
  }
  const int64_t now = NowNs();
  while (state_ == State::kOpen) {
    const size_t len = evbuffer_get_contiguous_space(in);
    if (len == 0) return;
    const char* data = reinterpret_cast<const char*>(evbuffer_pullup(in, static_cast<ssize_t>(len)));
    size_t used = 0;
    while (used < len && state_ == State::kOpen) {
      ws::Event event;
      used += decoder_.Feed(data + used, len - used, &event);
      if (decoder_.failed()) return Fail("protocol error: " + decoder_.error_reason());
      if (event.type == ws::Event::Type::kText) OnText(event.payload, now);
      else if (event.type == ws::Event::Type::kPing) SendText(event.payload, ws::Opcode::kPong);
      else if (event.type == ws::Event::Type::kClose) return Fail("close " + std::to_string(event.close_code));
    }
    if (state_ != State::kOpen) return;
    evbuffer_drain(in, len);
  }
}

void Subscriber::OnText(std::string_view frame, int64_t now) {
  const std::string_view type = BoardFrameType(frame);
  SubStats& s = t_->mutable_stats();
  if (type == "board_subscribed") {
    if (!subscribed_) {
      subscribed_ = true;
      t_->Subscribed();
    }
    return;
  }
  if (type == "error") {
    if (!t_->frozen()) s.errors["error frame: " + std::string(frame.substr(0, 200))]++;
    if (!subscribed_) Fail("refused");
    return;
  }
  if (type != "pixels" || t_->frozen()) return;
  static thread_local PixelsFrame f;
  if (!ParsePixelsFrame(frame, &f)) {
    s.malformed++;
    return;
  }
  s.frames++;
  if (last_v_ >= 0 && f.prev > last_v_) s.version_gaps++;
  if (last_v_ >= 0 && f.prev < last_v_) s.version_overlaps++;
  last_v_ = std::max(last_v_, f.v);
  const BoardSchedule* schedule = t_->schedule();
  for (const BoardPixel& p : f.pixels) {
    auto k = schedule ? schedule->Find(p.x, p.y, p.color) : std::nullopt;
    if (!k || *k >= t_->count()) {
      s.foreign++;
      continue;
    }
    s.pixels++;
    if (!seen_.Add(*k)) {
      s.duplicates++;
      continue;
    }
    s.due_us.Record(static_cast<uint64_t>(std::max<int64_t>(0, now - schedule->DueNs(*k)) / 1000));
    if (const int64_t sent = t_->SentNs(*k)) s.sent_us.Record(static_cast<uint64_t>(std::max<int64_t>(0, now - sent) / 1000));
  }
}

void Subscriber::SendText(std::string_view payload, ws::Opcode opcode) {
  uint8_t key[4];
  t_->MaskKey(key);
  std::string frame = ws::EncodeFrame(opcode, payload, key);
  bufferevent_write(bev_, frame.data(), frame.size());
}

void Subscriber::Fail(const std::string& why) {
  const bool was_open = subscribed_;
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  if (bev_) {
    bufferevent_free(bev_);
    bev_ = nullptr;
  }
  if (!t_->frozen()) t_->mutable_stats().errors[why]++;
  if (!was_open) t_->Resolved();
}

// ---- the report ---------------------------------------------------------------------------------

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

std::string Num(double v, int decimals = 0) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.*f", decimals, v);
  // Thousands separators on the whole part.
  const std::string_view all(buf);
  const size_t sign = all[0] == '-' ? 1 : 0;
  const std::string_view whole = all.substr(sign, all.find('.') == std::string_view::npos ? std::string_view::npos : all.find('.') - sign);
  std::string s(all.substr(0, sign));
  for (size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) s += ',';
    s += whole[i];
  }
  s += all.substr(sign + whole.size());
  return s;
}

std::string Ms(uint64_t us) {
  char buf[32];
  snprintf(buf, sizeof buf, us < 10000 ? "%.2f" : "%.0f", us / 1000.0);
  return buf;
}

std::string Percentiles(const Histogram& h) {
  if (!h.count()) return "(none)";
  return "p50 " + Ms(h.ValueAt(50)) + " / p90 " + Ms(h.ValueAt(90)) + " / p99 " + Ms(h.ValueAt(99)) + " / max " +
         Ms(h.max()) + " ms";
}

std::string Statuses(const std::map<std::string, uint64_t>& m) {
  std::string s;
  for (const auto& [code, n] : m) s += (s.empty() ? "" : ", ") + code + " x" + Num(static_cast<double>(n));
  return s.empty() ? "none" : s;
}

std::string Errors(const std::map<std::string, uint64_t>& m) {
  std::string s;
  for (const auto& [why, n] : m) s += (s.empty() ? "" : "; ") + why + " x" + Num(static_cast<double>(n));
  return s.empty() ? "none" : s;
}

std::string CpuText(const std::map<std::string, double>& cpu) {
  std::string s;
  for (const auto& [name, p] : cpu) s += (s.empty() ? "" : ", ") + name + " " + Num(p) + "%";
  return s;
}

void WriteHistogram(Writer& w, const char* key, const Histogram& h) {
  w.Key(key);
  w.StartObject();
  w.Key("count");
  w.Uint64(h.count());
  for (auto [name, p] : {std::pair{"p50", 50.0}, {"p90", 90.0}, {"p99", 99.0}, {"p99_9", 99.9}}) {
    w.Key(name);
    w.Uint64(h.ValueAt(p));
  }
  w.Key("max");
  w.Uint64(h.max());
  w.EndObject();
}

void WriteCounts(Writer& w, const char* key, const std::map<std::string, uint64_t>& m) {
  w.Key(key);
  w.StartObject();
  for (const auto& [why, n] : m) {
    w.Key(why.c_str());
    w.Uint64(n);
  }
  w.EndObject();
}

void WriteCpu(Writer& w, const std::map<std::string, double>& cpu) {
  w.Key("cpu_percent_of_one_core");
  w.StartObject();
  for (const auto& [name, p] : cpu) {
    w.Key(name.c_str());
    w.Double(p);
  }
  w.EndObject();
}

struct BoardMeta {
  int width = 0, height = 0, colors = 0, cooldown_ms = -1;
};

Result<BoardMeta> FetchMeta(const std::string& url) {
  auto r = test::HttpRequest("GET", url + "/api/board/meta");
  if (!r.ok()) return r.status();
  if (r->status != 200) return Status::Unavailable("meta", "GET /api/board/meta answered " + std::to_string(r->status) + ": " + r->body);
  rapidjson::Document d;
  d.Parse(r->body.c_str());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("width") || !d["width"].IsInt() || !d.HasMember("height") ||
      !d["height"].IsInt() || !d.HasMember("palette") || !d["palette"].IsArray())
    return Status::Internal("GET /api/board/meta: unexpected body " + r->body);
  BoardMeta m{d["width"].GetInt(), d["height"].GetInt(), static_cast<int>(d["palette"].Size()), -1};
  if (d.HasMember("cooldown_ms") && d["cooldown_ms"].IsInt()) m.cooldown_ms = d["cooldown_ms"].GetInt();
  if (m.colors < 2) return Status::Internal("the board's palette has fewer than 2 colours: no placement could be told from an empty pixel");
  return m;
}

struct BoardRead {
  std::string etag, version;
  uint64_t bytes = 0;
};

Result<BoardRead> FetchBoard(const std::string& url) {
  auto r = test::HttpRequest("GET", url + "/api/board");
  if (!r.ok()) return r.status();
  if (r->status != 200) return Status::Unavailable("board", "GET /api/board answered " + std::to_string(r->status));
  BoardRead b;
  b.bytes = r->body.size();
  if (auto it = r->headers.find("etag"); it != r->headers.end()) b.etag = it->second;
  if (auto it = r->headers.find("x-board-version"); it != r->headers.end()) b.version = it->second;
  while (!b.etag.empty() && (b.etag.back() == '\r' || b.etag.back() == ' ')) b.etag.pop_back();
  while (!b.version.empty() && (b.version.back() == '\r' || b.version.back() == ' ')) b.version.pop_back();
  return b;
}

template <typename T>
bool WaitFor(const std::vector<std::unique_ptr<T>>& all, double timeout_s, bool (T::*pred)() const) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    bool ok = true;
    for (const auto& t : all) ok = ok && (t.get()->*pred)();
    if (ok) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// One GET /api/board window: `connections` closed-loop keep-alive connections for the duration.
struct ReadResult {
  GenStats stats;
  std::map<std::string, double> cpu;
  std::string load;
  double seconds = 0;
  uint64_t opened = 0;
};

Result<ReadResult> ReadWindow(const BoardOptions& o, const Target& target, const std::vector<CpuGroup>& groups,
                              const std::string& extra_header, uint64_t board_bytes) {
  GenThreadConfig c;
  c.server = target.addr;
  c.host = target.host_port;
  c.duration_ns = static_cast<int64_t>(o.read_duration_s * 1e9);
  c.drain_ns = 5'000'000'000;
  c.read_request = "GET /api/board HTTP/1.1\r\nHost: " + target.host_port + "\r\n" + extra_header + "\r\n";
  c.expect_body = board_bytes;
  std::vector<std::unique_ptr<GenThread>> threads;
  for (int t = 0; t < o.threads; ++t) {
    std::vector<std::pair<in_addr, std::string>> conns;
    for (int i = t; i < o.read_connections; i += o.threads) conns.emplace_back(SourceAddress(i, o.source_ips), "");
    threads.push_back(std::make_unique<GenThread>(c, conns));
  }
  for (auto& t : threads) t->Start();
  if (!WaitFor(threads, 60, &GenThread::ready)) return Status::DeadlineExceeded("timeout", "read connections did not open in 60 s");
  ReadResult r;
  const int64_t start = NowNs() + 200'000'000;
  for (auto& t : threads) t->Go(nullptr, start);
  SleepUntilNs(start);
  r.load = LoadAverage();
  const CpuSample a = CpuSample::Take(groups);
  SleepUntilNs(start + c.duration_ns);
  const CpuSample b = CpuSample::Take(groups);
  r.cpu = CpuPercent(groups, a, b, sysconf(_SC_CLK_TCK));
  r.seconds = o.read_duration_s;
  if (!WaitFor(threads, 30, &GenThread::done)) return Status::DeadlineExceeded("timeout", "readers did not finish");
  for (auto& t : threads) {
    r.stats.Merge(t->stats());
    r.opened += t->opened();
  }
  return r;
}

}  // namespace

Status RunBoard(const BoardOptions& o) {
  if (o.connections < 1 || o.threads < 1 || o.subscribers < 0 || o.rate <= 0 || o.duration_s <= 0 || o.drain_s < 0 ||
      o.read_connections < 1 || o.read_duration_s < 0 || o.source_ips < 1 || o.source_ips > 250 ||
      (o.via != "http" && o.via != "ws"))
    return Status::InvalidArgument("bad_option",
                                   "connections, threads, read-connections >= 1; rate, duration > 0; subscribers, drain, "
                                   "read-duration >= 0; source-ips 1..250; via http or ws");
  const bool via_ws = o.via == "ws";
  const std::string ack = via_ws ? "placed" : "202";  // an accepted placement's answer
  auto target = ParseUrl(o.url);
  if (!target.ok()) return target.status();
  std::vector<CpuGroup> groups;
  for (const std::string& g : o.cpu_groups) {
    auto parsed = ParseCpuGroup(g);
    if (!parsed) return Status::InvalidArgument("bad_cpu_group", "--cpu must be name=PID,PID..., got " + g);
    groups.push_back(*parsed);
  }
  groups.push_back(CpuGroup{"loadgen", {static_cast<int>(getpid())}, {}});
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  if (files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  const int sockets = std::max(o.connections + o.subscribers, o.read_connections);
  if (static_cast<rlim_t>(sockets) + 64 > files.rlim_cur)
    return Status::InvalidArgument("too_many_connections", std::to_string(sockets) + " connections exceed the open-file limit");

  auto meta = FetchMeta(o.url);
  if (!meta.ok()) return meta.status();
  const uint64_t count = BoardSchedule(meta->width, meta->height, meta->colors, o.rate, 0).Count(o.duration_s);
  const uint64_t capacity = static_cast<uint64_t>(meta->width) * meta->height;
  if (static_cast<double>(count) < o.rate * o.duration_s - 1)
    return Status::InvalidArgument(
        "board_too_small", "rate x duration is " + Num(o.rate * o.duration_s) + " placements, more than the board's " +
                               Num(static_cast<double>(capacity)) +
                               " pixels: a run paints each pixel once (bench/README.md); shorten it, or enlarge the board");

  fprintf(stderr,
          "board: %dx%d, %d colours, cooldown %d ms; %llu placements at %.0f/s over %d %s connections, %d subscribers\n",
          meta->width, meta->height, meta->colors, meta->cooldown_ms, static_cast<unsigned long long>(count), o.rate,
          o.connections, via_ws ? "WebSocket" : "HTTP", o.subscribers);
  // One guest user per placing connection and per subscriber.
  std::vector<std::string> tokens;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < o.connections + o.subscribers; ++i) {
    auto token = GuestToken(o.url);
    if (!token.ok()) return token.status();
    tokens.push_back(*token);
  }
  fprintf(stderr, "board: %zu guest users in %.1f s\n", tokens.size(),
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

  std::unique_ptr<std::atomic<int64_t>[]> sent_ns(new std::atomic<int64_t>[count]);
  for (uint64_t k = 0; k < count; ++k) sent_ns[k].store(0, std::memory_order_relaxed);

  std::vector<std::pair<in_addr, std::string>> sub_specs;
  for (int i = 0; i < o.subscribers; ++i)
    sub_specs.emplace_back(SourceAddress(o.connections + i, o.source_ips), tokens[static_cast<size_t>(o.connections + i)]);
  std::vector<std::unique_ptr<SubThread>> subs;
  subs.push_back(std::make_unique<SubThread>(target->addr, target->host_port, count, sent_ns.get(), sub_specs));
  subs[0]->Start();
  if (!WaitFor(subs, 60, &SubThread::ready)) return Status::DeadlineExceeded("timeout", "subscribers not subscribed within 60 s");

  GenThreadConfig pc;
  pc.server = target->addr;
  pc.host = target->host_port;
  pc.duration_ns = static_cast<int64_t>(o.duration_s * 1e9);
  pc.drain_ns = static_cast<int64_t>(o.drain_s * 1e9);
  pc.placing = true;
  pc.via_ws = via_ws;
  pc.count = count;
  pc.step = static_cast<uint64_t>(o.threads);
  pc.sent_ns = sent_ns.get();
  std::vector<std::unique_ptr<GenThread>> placers;
  for (int t = 0; t < o.threads; ++t) {
    GenThreadConfig c = pc;
    c.first = static_cast<uint64_t>(t);
    std::vector<std::pair<in_addr, std::string>> conns;
    for (int i = t; i < o.connections; i += o.threads) conns.emplace_back(SourceAddress(i, o.source_ips), tokens[static_cast<size_t>(i)]);
    placers.push_back(std::make_unique<GenThread>(c, conns));
  }
  for (auto& t : placers) t->Start();
  if (!WaitFor(placers, 60, &GenThread::ready)) return Status::DeadlineExceeded("timeout", "connections did not open in 60 s");
  uint64_t opened = 0;
  for (auto& t : placers) opened += t->opened();

  const int64_t start = NowNs() + 300'000'000;
  const BoardSchedule schedule(meta->width, meta->height, meta->colors, o.rate, start);
  subs[0]->Go(&schedule);
  for (auto& t : placers) t->Go(&schedule, start);
  fprintf(stderr, "board: placing\n");  // bench/board --profile starts perf on this line
  SleepUntilNs(start);
  const std::string place_load = LoadAverage();
  const CpuSample cpu_a = CpuSample::Take(groups);
  SleepUntilNs(start + pc.duration_ns);
  const CpuSample cpu_b = CpuSample::Take(groups);
  const auto place_cpu = CpuPercent(groups, cpu_a, cpu_b, sysconf(_SC_CLK_TCK));
  if (!WaitFor(placers, o.drain_s + 30, &GenThread::done)) return Status::DeadlineExceeded("timeout", "placers did not finish");
  GenStats place;
  PixelSet acked(count);
  for (auto& t : placers) {
    place.Merge(t->stats());
    acked.Merge(*t->acked());
  }
  const int64_t window_end = start + pc.duration_ns;
  // The subscribers get the drain, and at least 2 s after the last answer.
  subs[0]->Finish(&acked, std::max(NowNs() + 2'000'000'000, window_end + pc.drain_ns));
  if (!WaitFor(subs, o.drain_s + 30, &SubThread::done)) return Status::DeadlineExceeded("timeout", "subscribers did not finish");
  const SubStats& sub = subs[0]->stats();
  const std::vector<uint64_t> missing = subs[0]->Missing(acked);
  for (auto& t : placers) t->Quit();
  subs[0]->Quit();

  // Reads of the whole board, once the placements are in: its version stays put meanwhile.
  BoardRead before;
  std::vector<std::pair<std::string, ReadResult>> reads;
  std::string version_after;
  if (o.read_duration_s > 0) {
    // The worker may still be applying what was answered late: wait until the version holds for a
    // second (at most 60 s), so the ETag the 304 window sends stays the board's.
    auto b = FetchBoard(o.url);
    if (!b.ok()) return b.status();
    for (int held = 0, polls = 0; held < 2 && polls < 120; ++polls) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      auto again = FetchBoard(o.url);
      if (!again.ok()) return again.status();
      held = again->version == b->version ? held + 1 : 0;
      b = std::move(again);
    }
    before = *b;
    for (const auto& [name, header] : {std::pair<std::string, std::string>{"full", ""},
                                       {"if-none-match", "If-None-Match: " + before.etag + "\r\n"}}) {
      fprintf(stderr, "board: GET /api/board (%s) for %.0f s over %d connections\n", name.c_str(), o.read_duration_s,
              o.read_connections);
      auto r = ReadWindow(o, *target, groups, header, before.bytes);
      if (!r.ok()) return r.status();
      reads.emplace_back(name, std::move(*r));
    }
    auto after = FetchBoard(o.url);
    if (!after.ok()) return after.status();
    version_after = after->version;
  }

  // ---- figures ----
  const uint64_t accepted = place.by_status.count(ack) ? place.by_status.at(ack) : 0;
  const double place_seconds =
      std::max(o.duration_s, place.last_answer_ns > start ? static_cast<double>(place.last_answer_ns - start) / 1e9 : 0);
  uint64_t missing_total = 0, missing_worst = 0, subscribers_complete = 0;
  for (uint64_t m : missing) {
    missing_total += m;
    missing_worst = std::max(missing_worst, m);
    subscribers_complete += m == 0;
  }
  std::ostringstream text;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("scenario");
  w.String("board");
  w.Key("conditions");
  w.StartObject();
  text << "board: placements and reads of the pixel board\nconditions\n";
  auto cond = [&](const std::string& k, const std::string& v) {
    text << "  " << k << std::string(k.size() < 14 ? 14 - k.size() : 1, ' ') << " " << v << "\n";
    w.Key(k.c_str());
    w.String(v.c_str());
  };
  for (const std::string& n : o.notes) {
    const size_t eq = n.find('=');
    if (eq != std::string::npos && eq > 0) cond(n.substr(0, eq), n.substr(eq + 1));
  }
  cond("machine", std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) + " cpus, " + CpuModel() + "; shared (see `others`)");
  cond("board", std::to_string(meta->width) + " x " + std::to_string(meta->height) + ", " + std::to_string(meta->colors) +
                    " colours, cooldown " + std::to_string(meta->cooldown_ms) + " ms (GET /api/board/meta)");
  cond("placing", std::to_string(o.connections) +
                      (via_ws ? " WebSockets sending {\"type\":\"place\"} frames (" : " keep-alive HTTP connections (") +
                      Num(static_cast<double>(opened)) + " opened), one guest user each, one placement at a time; " +
                      std::to_string(o.threads) +
                      " thread(s); open loop at " + Num(o.rate) + "/s for " + Num(o.duration_s, 1) + " s (" +
                      Num(static_cast<double>(count)) + " placements, placement k paints pixel k: each pixel once)");
  cond("subscribing", std::to_string(o.subscribers) + " WebSockets on one thread, {\"type\":\"board_subscribe\"}; " +
                          std::to_string(sub.subscribed) + " subscribed");
  cond("reading", o.read_duration_s <= 0 ? std::string("none (--read-duration 0)")
                                         : std::to_string(o.read_connections) + " keep-alive connections, closed loop, " +
                                               Num(o.read_duration_s, 1) + " s each, " + std::to_string(o.threads) +
                                               " thread(s), the board read limit off");
  cond("load avg", "placing " + place_load + (reads.empty() ? "" : "; reads " + reads[0].second.load + " and " + reads[1].second.load) +
                       " (1, 5, 15 min, at each window's start)");
  cond("generator", "chatpipe-loadgen board, on the same machine; source addresses 127.0.0.2-" +
                        std::to_string(1 + o.source_ips));
  w.EndObject();

  text << (via_ws ? "placements (WebSocket place frames, answered by placed)\n" : "placements (PUT /api/board/pixels)\n");
  auto row = [&](const std::string& k, const std::string& v) {
    text << "  " << k << std::string(k.size() < 22 ? 22 - k.size() : 1, ' ') << " " << v << "\n";
  };
  row("offered", Num(o.rate) + "/s, " + Num(static_cast<double>(count)) + " placements");
  row("sent", Num(static_cast<double>(place.sent)) + (place.not_sent ? " (" + Num(static_cast<double>(place.not_sent)) + " never sent: the drain ended)" : ""));
  row("accepted (" + ack + ")", Num(static_cast<double>(accepted) / place_seconds) + "/s (" + Num(static_cast<double>(accepted)) +
                            " over " + Num(place_seconds, 2) + " s: the window, or to the last answer)");
  row("answers by status", Statuses(place.by_status));
  row("connection errors", Errors(place.errors) + "; connections lost " + Num(static_cast<double>(place.lost_connections)) +
                               (place.in_flight_at_end ? "; unanswered at the end " + Num(static_cast<double>(place.in_flight_at_end)) : ""));
  row("send->" + ack, Percentiles(place.answer_us) + " (from the due time)");
  row("written->" + ack, Percentiles(place.written_us) + " (the server's part)");
  row("generator lag", Percentiles(place.lag_us) + " (due -> written: waits for a free connection)");
  row("send->pixels frame", Percentiles(sub.due_us) + " (due -> frame, each subscriber)");
  row("written->pixels frame", Percentiles(sub.sent_us));
  row("every ack everywhere", std::string(missing_total == 0 ? "yes" : "NO") + ": " + std::to_string(subscribers_complete) + " of " +
                                  std::to_string(missing.size()) + " subscribers saw all " + Num(static_cast<double>(acked.count())) +
                                  " acked placements" +
                                  (missing_total ? "; missing " + Num(static_cast<double>(missing_total)) + " in all, worst subscriber " +
                                                       Num(static_cast<double>(missing_worst))
                                                 : "") +
                                  (subs[0]->complete_ns() ? ", the last " + Num(static_cast<double>(subs[0]->complete_ns() - window_end) / 1e6) + " ms after the window" : ""));
  row("frames", Num(static_cast<double>(sub.frames)) + " pixels frames, " + Num(static_cast<double>(sub.pixels)) +
                    " pixels of this run; duplicates " + Num(static_cast<double>(sub.duplicates)) + ", not this run's " +
                    Num(static_cast<double>(sub.foreign)) + ", unreadable " + Num(static_cast<double>(sub.malformed)) +
                    "; version gaps " + Num(static_cast<double>(sub.version_gaps)) + ", overlaps " +
                    Num(static_cast<double>(sub.version_overlaps)));
  row("subscriber errors", Errors(sub.errors));
  row("cpu, % of one core", CpuText(place_cpu) + " (over the window)");
  if (place.accepted_in_window) {
    // What each placement cost every process, from the window's CPU and the 202s within it.
    std::string per;
    for (const auto& [name, p] : place_cpu)
      if (name != "others")
        per += (per.empty() ? "" : ", ") + name + " " +
               Num(p / 100 * o.duration_s / static_cast<double>(place.accepted_in_window) * 1e6, 1);
    row("cpu per placement", per + " us (" + Num(static_cast<double>(place.accepted_in_window)) + " answered " + ack + " in the window)");
  }

  w.Key("placements");
  w.StartObject();
  w.Key("via");
  w.String(o.via.c_str());
  w.Key("offered_per_s");
  w.Double(o.rate);
  w.Key("scheduled");
  w.Uint64(count);
  w.Key("sent");
  w.Uint64(place.sent);
  w.Key("not_sent");
  w.Uint64(place.not_sent);
  w.Key("accepted");
  w.Uint64(accepted);
  w.Key("accepted_in_window");
  w.Uint64(place.accepted_in_window);
  w.Key("accepted_per_s");
  w.Double(static_cast<double>(accepted) / place_seconds);
  w.Key("seconds");
  w.Double(place_seconds);
  WriteCounts(w, "by_status", place.by_status);
  WriteCounts(w, "connection_errors", place.errors);
  w.Key("unanswered");
  w.Uint64(place.in_flight_at_end);
  w.Key("connections_lost");
  w.Uint64(place.lost_connections);
  WriteHistogram(w, "send_to_answer_us", place.answer_us);
  WriteHistogram(w, "lag_us", place.lag_us);
  WriteHistogram(w, "written_to_answer_us", place.written_us);
  WriteHistogram(w, "send_to_frame_us", sub.due_us);
  WriteHistogram(w, "written_to_frame_us", sub.sent_us);
  w.Key("subscribers");
  w.Uint64(missing.size());
  w.Key("subscribers_complete");
  w.Uint64(subscribers_complete);
  w.Key("missing_total");
  w.Uint64(missing_total);
  w.Key("complete_after_window_ms");
  w.Double(subs[0]->complete_ns() ? static_cast<double>(subs[0]->complete_ns() - window_end) / 1e6 : -1);
  w.Key("frames");
  w.Uint64(sub.frames);
  w.Key("duplicates");
  w.Uint64(sub.duplicates);
  w.Key("foreign");
  w.Uint64(sub.foreign);
  w.Key("malformed");
  w.Uint64(sub.malformed);
  w.Key("version_gaps");
  w.Uint64(sub.version_gaps);
  w.Key("version_overlaps");
  w.Uint64(sub.version_overlaps);
  WriteCounts(w, "subscriber_errors", sub.errors);
  WriteCpu(w, place_cpu);
  w.Key("load_avg");
  w.String(place_load.c_str());
  w.EndObject();

  w.Key("reads");
  w.StartArray();
  if (!reads.empty())
    text << "reads (GET /api/board, " << Num(static_cast<double>(before.bytes)) << "-byte board, ETag " << before.etag
         << ", version " << before.version << " before and " << version_after << " after)\n";
  for (const auto& [name, r] : reads) {
    const double rps = static_cast<double>(r.stats.answered) / r.seconds;
    const std::string want = name == "full" ? "200" : "304";
    const uint64_t ok = r.stats.by_status.count(want) ? r.stats.by_status.at(want) : 0;
    const uint64_t other = r.stats.answered - ok;
    row(name == "full" ? "full body" : "If-None-Match (304)",
        Num(rps) + " responses/s; " + Percentiles(r.stats.answer_us) + "; statuses " + Statuses(r.stats.by_status) +
            (other ? " (" + Num(static_cast<double>(other)) + " NOT " + (name == "full" ? "200" : "304") + ")" : "") +
            (r.stats.wrong_size ? "; WRONG SIZE x" + Num(static_cast<double>(r.stats.wrong_size)) : "") +
            "; errors " + Errors(r.stats.errors) + "; " + Num(static_cast<double>(r.stats.body_bytes) / r.seconds / 1e6) +
            " MB/s of bodies; cpu " + CpuText(r.cpu));
    w.StartObject();
    w.Key("name");
    w.String(name.c_str());
    w.Key("responses_per_s");
    w.Double(rps);
    w.Key("expected_status_count");
    w.Uint64(ok);
    w.Key("connections_opened");
    w.Uint64(r.opened);
    WriteCounts(w, "by_status", r.stats.by_status);
    WriteCounts(w, "connection_errors", r.stats.errors);
    w.Key("wrong_size");
    w.Uint64(r.stats.wrong_size);
    w.Key("body_bytes_per_s");
    w.Double(static_cast<double>(r.stats.body_bytes) / r.seconds);
    WriteHistogram(w, "latency_us", r.stats.answer_us);
    WriteCpu(w, r.cpu);
    w.Key("load_avg");
    w.String(r.load.c_str());
    w.EndObject();
  }
  w.EndArray();
  if (!reads.empty()) {
    w.Key("board_bytes");
    w.Uint64(before.bytes);
    w.Key("etag");
    w.String(before.etag.c_str());
    w.Key("version_before");
    w.String(before.version.c_str());
    w.Key("version_after");
    w.String(version_after.c_str());
  }
  w.EndObject();
  fputs(text.str().c_str(), stdout);
  fflush(stdout);
  if (!o.out.empty())
    if (Status s = WriteFile(o.out, std::string(buf.GetString(), buf.GetSize()) + "\n"); !s.ok()) return s;
  return Status::Ok();
}

}  // namespace chatpipe::bench
