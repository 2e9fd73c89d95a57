#include "ingress/loop.h"

#include <event2/buffer.h>
#include <event2/listener.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/log.h"
#include "common/metrics.h"
#include "common/steady_clock.h"
#include "ingress/connection.h"

namespace chatpipe {

namespace {

Metric& refused_connections = Counter("chatpipe_ingress_refused_connections_total",
                                      "connections closed at accept: over --max-connections or per address");
Metric& shed_connections = Counter("chatpipe_ingress_shed_connections_total",
                                   "connections accepted and closed at once for lack of descriptors (EMFILE)");

const timeval* CommonTimeout(event_base* base, int ms) {
  const timeval tv{ms / 1000, ms % 1000 * 1000};
  return event_base_init_common_timeout(base, &tv);
}

int OpenReserve() { return open("/dev/null", O_RDONLY | O_CLOEXEC); }

// Only a loop's own thread touches its base (other threads go through the TaskQueue), so it needs no
// lock: with threads enabled libevent would otherwise take a mutex on every event_pending() and
// event_add(), which a fan-out does once per delivery.
event_base* NewEventBase() {
  event_config* cfg = event_config_new();
  event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
  event_base* base = event_base_new_with_config(cfg);
  event_config_free(cfg);
  return base;
}

}  // namespace

Loop::Loop(int index, Services* services)
    : index_(index),
      services_(services),
      prefix_(services->config.common.RedisPrefix()),
      base_(NewEventBase()),
      redis_(base_, &tasks_, this, services->config.common.RedisShards(), "loop " + std::to_string(index),
             &services->redis_links_up),
      rooms_(this),
      users_(this),
      send_allowance_(this, services->config.limits.sends_per_user) {
  const ConnectionLimits& limits = services->config.connections;
  idle_timeout_ = CommonTimeout(base_, limits.http_idle_timeout_ms);
  request_timeout_ = CommonTimeout(base_, limits.http_request_timeout_ms);
  flush_timeout_ = CommonTimeout(base_, 10000);
  reserve_fd_ = OpenReserve();
  wake_event_ = event_new(base_, tasks_.fd(), EV_READ | EV_PERSIST, &Loop::OnWake, this);
  event_add(wake_event_, nullptr);
  flush_event_ = event_new(base_, -1, 0, &Loop::OnFlush, this);
  // A pass over every connection each eighth of the ping interval (at least 10 ms, at most 5 s): a
  // silent WebSocket is pinged between one and 1.125 intervals after it last sent anything. The pass
  // goes a slice at a time, up to 32 slices at least 10 ms apart: when a whole pass pinged at once,
  // the pongs to thousands of pings came back together, and their delayed ACKs, sent together by
  // the kernel's timer 40 ms later, overflowed its receive backlog (net.core.netdev_max_backlog).
  // The packets dropped with them were anyone's, Kafka's too, and came back only after a
  // retransmission timeout (bench/README.md, "A million idle WebSockets").
  const int pass_ms = std::clamp(limits.ws_ping_interval_ms / 8, 10, 5000);
  const int slice_ms = std::max(pass_ms / 32, 10);
  sweep_slices_ = static_cast<size_t>(pass_ms / slice_ms);
  const timeval slice{slice_ms / 1000, slice_ms % 1000 * 1000};
  silence_event_ = event_new(base_, -1, EV_PERSIST, &Loop::OnSilenceSweep, this);
  event_add(silence_event_, &slice);
}

// One slice of a pass over the loop's connections: a few nanoseconds each, and no timer per
// connection (connection.h says why).
void Loop::OnSilenceSweep(int, short, void* arg) {
  auto* loop = static_cast<Loop*>(arg);
  const auto now = static_cast<uint32_t>(SteadyMs());
  loop->connections_.ForEachInTurn(loop->sweep_slices_, [now](Connection& conn) { conn.CheckSilence(now); });
  loop->send_allowance_.Sweep(SteadyMs());
}

Loop::~Loop() {
  connections_.Clear();
  for (evbuffer* b : spare_buffers_) evbuffer_free(b);
  if (listener_) evconnlistener_free(listener_);
  if (reserve_fd_ >= 0) close(reserve_fd_);
  redis_.Close();
  users_.Stop();
  for (event* e : {wake_event_, flush_event_, drain_event_, silence_event_})
    if (e) event_free(e);
  event_base_free(base_);
}

Status Loop::Start(const std::string& host, int* port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(*port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return Status::InvalidArgument("bad_host", "bad listen address " + host);
  listener_ = evconnlistener_new_bind(base_, &Loop::OnAccept, this,
                                      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT, 4096,
                                      reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (!listener_) return Status::Internal("cannot listen on " + host + ":" + std::to_string(*port));
  evconnlistener_set_error_cb(listener_, &Loop::OnAcceptError);
  if (*port == 0) {
    socklen_t len = sizeof addr;
    getsockname(evconnlistener_get_fd(listener_), reinterpret_cast<sockaddr*>(&addr), &len);
    *port = ntohs(addr.sin_port);
  }
  redis_.Connect();
  users_.Start();
  thread_ = std::thread([this] { event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY); });
  return Status::Ok();
}

void Loop::Stop() {
  if (!thread_.joinable()) return;
  tasks_.Post([this] {
    redis_.StopReconnecting();
    if (listener_) evconnlistener_disable(listener_);
    // Going away: each WebSocket leaves its rooms and gets close code 1001 (its client reconnects
    // elsewhere), and the rooms hear of the leaves now rather than from expiring presence keys.
    connections_.ForEach([](Connection& conn) { conn.GoAway(); });
    // Redis says which leaves change a user's presence before it answers a PING queued behind
    // them; then their frames are published, and a second PING answers once Redis has those (both at
    // once if Redis is down). The close frames go out at this iteration's flush. kStopGrace bounds it.
    redis_.Barrier([this] {
      rooms_.PublishPresence();
      redis_.Barrier([this] { event_base_loopexit(base_, nullptr); });
    });
    static constexpr timeval kStopGrace{1, 0};
    event_base_loopexit(base_, &kStopGrace);
  });
  thread_.join();
}

void Loop::Drain() {
  tasks_.Post([this] {
    // Freeing the listener closes its socket: the kernel hands new connections to the other sockets
    // on the port (another process's, with SO_REUSEPORT) or refuses them.
    if (listener_) evconnlistener_free(listener_);
    listener_ = nullptr;
    connections_.ForEach([](Connection& conn) { conn.Drain(); });
    drain_event_ = event_new(base_, -1, EV_PERSIST, &Loop::OnDrainTick, this);
    static constexpr timeval kDrainTick{0, 10000};
    // The first step comes a tick later: frames already in the sockets are read (and answered) first.
    event_add(drain_event_, &kDrainTick);
  });
}

void Loop::OnDrainTick(int, short, void* arg) { static_cast<Loop*>(arg)->DrainStep(); }

void Loop::DrainStep() {
  // New sends and placements are refused while draining (ws_session.cc), so the acks owed only
  // dwindle; once all are out, nothing a client sent is left unanswered and its WebSocket may close.
  if (tasks_.owed() == 0 && !SendsAwaitAck())
    connections_.ForEach([](Connection& conn) { conn.CloseWebSocket(ws::kCloseServiceRestart, "service restart"); });
  if (connections_.empty() && tasks_.owed() == 0) {
    event_del(drain_event_);
    drained_ = true;
  }
}

bool Loop::SendsAwaitAck() {
  bool awaiting = false;
  connections_.ForEach([&](Connection& conn) {
    awaiting |= conn.buckets().sends_in_flight > 0 || conn.buckets().placements_in_flight > 0;
  });
  return awaiting;
}

void Loop::LogUndrained() {
  tasks_.Post([this] {
    if (!drained_)
      spdlog::warn("ingress: loop {}: drain deadline passed with {} connections open and {} answers owed; cut",
                   index_, connections_.size(), tasks_.owed());
  });
}

void Loop::OnWake(int, short, void* arg) { static_cast<Loop*>(arg)->tasks_.RunPending(); }

void Loop::ScheduleFlush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  event_active(flush_event_, EV_TIMEOUT, 0);  // after the callbacks already due this iteration
}

void Loop::WantsWrite(uint64_t conn_id) {
  to_write_.push_back(conn_id);
  ScheduleFlush();
}

void Loop::OnFlush(int, short, void* arg) {
  auto* loop = static_cast<Loop*>(arg);
  loop->flush_scheduled_ = false;
  loop->redis_.DrainSubscriber();
  loop->send_allowance_.Flush();
  loop->placements_.Flush();
  loop->rooms_.Flush();
  loop->board_.Flush();
  std::vector<uint64_t> ids;
  ids.swap(loop->to_write_);
  for (uint64_t id : ids)
    if (Connection* c = loop->FindConnection(id)) c->Uncork();
  loop->rooms_.NoteWritten();
}

// Over a limit the connection is closed at once, before a byte is read: answering 503 would mean
// holding the socket (and a timer) until the request arrived, the very resources the limit protects.
void Loop::OnAccept(evconnlistener*, int fd, sockaddr* addr, int, void* arg) {
  auto* loop = static_cast<Loop*>(arg);
  const IpAddress peer = IpAddressOf(addr);
  // A trusted proxy's connection carries many clients: it counts in the total only (ConnectionCounter).
  const bool proxied = loop->services_->proxies.Contains(peer);
  if (!loop->services_->connections.Admit(proxied ? std::string() : AddressKey(peer))) {
    refused_connections.Add();
    LogEvent(spdlog::level::debug, "connection_refused", {{"loop", loop->index()}, {"reason", "over a connection limit"}});
    close(fd);
    return;
  }
  SetClientSocketOptions(fd, loop->services_->config.connections);
  const uint64_t id = loop->connections_.NextId(fd);
  loop->connections_.Add(std::make_unique<Connection>(loop, id, fd, peer, proxied));
}

// accept() failed. Out of descriptors, the pending connection stays in the backlog and the listener
// would be woken for it again at once, forever (a busy loop that serves no one). The classic way out:
// give up the reserve descriptor, accept the connection and close it (its client sees the connection
// end rather than hang), and take the reserve back. Once connections close, accepting works again.
void Loop::OnAcceptError(evconnlistener* listener, void* arg) {
  auto* loop = static_cast<Loop*>(arg);
  const int err = EVUTIL_SOCKET_ERROR();
  if (err != EMFILE && err != ENFILE) return spdlog::warn("ingress: accept: {}", evutil_socket_error_to_string(err));
  if (loop->reserve_fd_ >= 0) close(loop->reserve_fd_);
  int fd = accept(evconnlistener_get_fd(listener), nullptr, nullptr);
  if (fd >= 0) {
    shed_connections.Add();
    LogEvent(spdlog::level::debug, "connection_shed", {{"loop", loop->index()}, {"reason", "out of file descriptors"}});
    close(fd);
  }
  loop->reserve_fd_ = OpenReserve();
}

evbuffer* Loop::BorrowBuffer() {
  if (spare_buffers_.empty()) return evbuffer_new();
  evbuffer* b = spare_buffers_.back();
  spare_buffers_.pop_back();
  return b;
}

void Loop::ReturnBuffer(evbuffer* empty) {
  // Enough spares for every connection one iteration writes in a hot room; beyond that, free.
  constexpr size_t kMaxSpareBuffers = 4096;
  if (spare_buffers_.size() < kMaxSpareBuffers) spare_buffers_.push_back(empty);
  else evbuffer_free(empty);
}

Connection* Loop::FindConnection(uint64_t id) { return connections_.Find(id); }

void Loop::CloseConnection(uint64_t id) { connections_.Remove(id); }

void Loop::OnSubscriberReady(size_t shard) {
  rooms_.ResubscribeAll(shard);
  users_.ResubscribeAll(shard);
  board_.ResubscribeAll(shard);
}

void Loop::OnSubscriberLost(size_t shard) {
  rooms_.OnSubscriberLost(shard);
  board_.OnSubscriberLost(shard);
}

void Loop::OnSubscribed(std::string_view channel) {
  if (!users_.OnSubscribed(channel) && !board_.OnSubscribed(channel)) rooms_.OnSubscribed(channel);
}

void Loop::OnUnsubscribed(std::string_view channel) {
  if (!users_.OnUnsubscribed(channel) && !board_.OnUnsubscribed(channel)) rooms_.OnUnsubscribed(channel);
}

void Loop::OnChannelMessage(std::string_view channel, std::string_view payload) {
  if (!users_.OnChannelMessage(channel, payload) && !board_.OnChannelMessage(channel, payload))
    rooms_.OnChannelMessage(channel, payload);
}

}  // namespace chatpipe
