#include "ingress/loop.h"

#include <event2/buffer.h>
#include <event2/listener.h>
#include <hiredis/adapters/libevent.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ingress/connection.h"
#include "storage/chat_store.h"

namespace chatpipe {
namespace {

// hiredis calls back with privdata; the command callbacks carry their std::function here.
void OnCommandReply(redisAsyncContext*, void* reply, void* privdata) {
  auto* done = static_cast<std::function<void(redisReply*)>*>(privdata);
  (*done)(static_cast<redisReply*>(reply));
  delete done;
}

constexpr timeval kRedisRetry{0, 500 * 1000};
constexpr int kMaxSubscriberReads = 64;  // 16 KiB each: at most 1 MiB of channel traffic per flush

}  // namespace

Loop::Loop(int index, Services* services)
    : index_(index), services_(services), prefix_(services->config.common.RedisPrefix()), rooms_(this), users_(this) {
  // Only this loop's thread touches its base (other threads Post()), so it needs no lock: with
  // threads enabled libevent would otherwise take a mutex on every event_pending() and event_add(),
  // which a fan-out does once per delivery.
  event_config* cfg = event_config_new();
  event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
  base_ = event_base_new_with_config(cfg);
  event_config_free(cfg);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  wake_event_ = event_new(base_, wake_fd_, EV_READ | EV_PERSIST, &Loop::OnWake, this);
  event_add(wake_event_, nullptr);
  flush_event_ = event_new(base_, -1, 0, &Loop::OnFlush, this);
}

Loop::~Loop() {
  connections_.clear();
  for (evbuffer* b : spare_buffers_) evbuffer_free(b);
  if (listener_) evconnlistener_free(listener_);
  // Freeing the async contexts calls pending callbacks with a null reply; they only touch this loop.
  stopping_ = true;
  if (redis_cmd_) redisAsyncFree(redis_cmd_);
  if (redis_sub_) redisAsyncFree(redis_sub_);
  users_.Stop();
  for (event* e : {reconnect_cmd_, reconnect_sub_, wake_event_, flush_event_})
    if (e) event_free(e);
  close(wake_fd_);
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
  if (*port == 0) {
    socklen_t len = sizeof addr;
    getsockname(evconnlistener_get_fd(listener_), reinterpret_cast<sockaddr*>(&addr), &len);
    *port = ntohs(addr.sin_port);
  }
  ConnectRedis(false);
  ConnectRedis(true);
  users_.Start();
  thread_ = std::thread([this] { event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY); });
  return Status::Ok();
}

void Loop::Stop() {
  if (!thread_.joinable()) return;
  Post([this] {
    stopping_ = true;
    evconnlistener_disable(listener_);
    // Going away: each WebSocket leaves its rooms and gets close code 1001 (its client reconnects
    // elsewhere), and the rooms hear of the leaves now rather than from expiring presence keys.
    for (auto& [id, conn] : connections_) conn->GoAway();
    // Redis says which leaves change a user's presence before it answers a PING queued behind
    // them; then their frames are published, and a second PING answers once Redis has those (both at
    // once if Redis is down). The close frames go out at this iteration's flush. kStopGrace bounds it.
    Redis({"PING"}, [this](redisReply*) {
      rooms_.PublishPresence();
      Redis({"PING"}, [this](redisReply*) { event_base_loopexit(base_, nullptr); });
    });
    static constexpr timeval kStopGrace{1, 0};
    event_base_loopexit(base_, &kStopGrace);
  });
  thread_.join();
}

void Loop::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(tasks_mu_);
    tasks_.push_back(std::move(task));
    // A queue that was not empty has a wake-up pending (OnWake takes the queue after reading the
    // eventfd), so only the first task of a batch pays for the write.
    if (tasks_.size() > 1) return;
  }
  uint64_t one = 1;
  ssize_t n = write(wake_fd_, &one, sizeof one);  // a full eventfd counter already means "wake up"
  (void)n;
}

void Loop::OnWake(int fd, short, void* arg) {
  auto* loop = static_cast<Loop*>(arg);
  uint64_t count;
  ssize_t n = read(fd, &count, sizeof count);
  (void)n;
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(loop->tasks_mu_);
    tasks.swap(loop->tasks_);
  }
  for (auto& task : tasks) task();
}

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
  loop->DrainSubscriber();
  loop->rooms_.Flush();
  std::vector<uint64_t> ids;
  ids.swap(loop->to_write_);
  for (uint64_t id : ids)
    if (Connection* c = loop->FindConnection(id)) c->Uncork();
}

// hiredis reads 16 KiB per readable event, so a loop busy fanning out would take a few dozen frames
// a turn from a subscriber socket holding thousands, one write per seat for each. Reading what the
// socket holds before the rooms flush puts everything that has arrived into this turn's batches.
void Loop::DrainSubscriber() {
  for (int i = 0; i < kMaxSubscriberReads && redis_sub_ && sub_ready_; ++i) {
    int pending = 0;
    if (ioctl(redis_sub_->c.fd, FIONREAD, &pending) < 0 || pending == 0) return;
    redisAsyncHandleRead(redis_sub_);  // a lost connection clears redis_sub_ from its callback
  }
}

void Loop::OnAccept(evconnlistener*, int fd, sockaddr*, int, void* arg) {
  auto* loop = static_cast<Loop*>(arg);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  uint64_t id = loop->next_conn_id_++;
  loop->connections_.emplace(id, std::make_unique<Connection>(loop, id, fd));
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

Connection* Loop::FindConnection(uint64_t id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second.get();
}

void Loop::CloseConnection(uint64_t id) { connections_.erase(id); }

// --- Redis ---

void Loop::ConnectRedis(bool subscriber) {
  const CommonConfig& c = services_->config.common;
  redisAsyncContext* ac = redisAsyncConnect(c.RedisHost().c_str(), c.RedisPort());
  if (!ac || ac->err) {
    spdlog::warn("loop {}: redis: {}", index_, ac ? ac->errstr : "out of memory");
    if (ac) redisAsyncFree(ac);
    ScheduleRedisReconnect(subscriber);
    return;
  }
  ac->data = this;
  redisLibeventAttach(ac, base_);
  redisAsyncSetConnectCallback(ac, &Loop::OnRedisConnect);
  redisAsyncSetDisconnectCallback(ac, &Loop::OnRedisDisconnect);
  (subscriber ? redis_sub_ : redis_cmd_) = ac;
}

void Loop::ScheduleRedisReconnect(bool subscriber) {
  if (stopping_) return;
  event*& timer = subscriber ? reconnect_sub_ : reconnect_cmd_;
  if (!timer) timer = evtimer_new(base_, subscriber ? &Loop::OnReconnectSubscriber : &Loop::OnReconnectCommand, this);
  evtimer_add(timer, &kRedisRetry);
}

void Loop::OnReconnectCommand(int, short, void* arg) { static_cast<Loop*>(arg)->ConnectRedis(false); }
void Loop::OnReconnectSubscriber(int, short, void* arg) { static_cast<Loop*>(arg)->ConnectRedis(true); }

void Loop::OnRedisConnect(const redisAsyncContext* ac, int status) {
  auto* loop = static_cast<Loop*>(ac->data);
  bool subscriber = ac == loop->redis_sub_;
  if (status != REDIS_OK) {
    spdlog::warn("loop {}: redis connect failed: {}", loop->index_, ac->errstr);
    (subscriber ? loop->redis_sub_ : loop->redis_cmd_) = nullptr;  // hiredis frees the context itself
    loop->ScheduleRedisReconnect(subscriber);
    return;
  }
  if (subscriber) {
    loop->sub_ready_ = true;
    loop->rooms_.ResubscribeAll();
    loop->users_.ResubscribeAll();
  } else {
    loop->cmd_ready_ = true;
  }
}

void Loop::OnRedisDisconnect(const redisAsyncContext* ac, int status) {
  auto* loop = static_cast<Loop*>(ac->data);
  bool subscriber = ac == loop->redis_sub_;
  if (subscriber) {
    loop->redis_sub_ = nullptr;
    loop->sub_ready_ = false;
    if (!loop->stopping_) loop->rooms_.OnSubscriberLost();
  } else {
    loop->redis_cmd_ = nullptr;
    loop->cmd_ready_ = false;
  }
  if (!loop->stopping_) {
    spdlog::warn("loop {}: redis {} connection lost; reconnecting", loop->index_, subscriber ? "subscriber" : "command");
    loop->ScheduleRedisReconnect(subscriber);
  }
}

void Loop::Redis(const std::vector<std::string>& args, std::function<void(redisReply*)> done) {
  if (!redis_cmd_ || !cmd_ready_) {
    Post([done = std::move(done)] { done(nullptr); });
    return;
  }
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* cb = new std::function<void(redisReply*)>(std::move(done));
  if (redisAsyncCommandArgv(redis_cmd_, &OnCommandReply, cb, static_cast<int>(argv.size()), argv.data(),
                            lens.data()) != REDIS_OK) {
    Post([done = std::move(*cb)] { done(nullptr); });  // `done` itself was moved into cb
    delete cb;
  }
}

void Loop::OnSubscriberReply(redisAsyncContext* ac, void* r, void*) {
  auto* loop = static_cast<Loop*>(ac->data);
  auto* reply = static_cast<redisReply*>(r);
  if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) return;
  std::string_view kind(reply->element[0]->str, reply->element[0]->len);
  std::string_view channel(reply->element[1]->str, reply->element[1]->len);
  if (kind == "message") {
    std::string_view payload(reply->element[2]->str, reply->element[2]->len);
    if (!loop->users_.OnChannelMessage(channel, payload)) loop->rooms_.OnChannelMessage(channel, payload);
  }
  else if (kind == "subscribe")
    loop->rooms_.OnSubscribed(channel);
}

void Loop::Subscribe(const std::string& channel) {
  if (!redis_sub_ || !sub_ready_) return;  // ResubscribeAll() sends it once connected
  redisAsyncCommand(redis_sub_, &Loop::OnSubscriberReply, nullptr, "SUBSCRIBE %b", channel.data(), channel.size());
}

// --- Room access ---

void Loop::CheckRoomAccess(int64_t room, int64_t user, std::function<void(Status)> done) {
  auto known = room_facts_.find(room);
  if (known != room_facts_.end() && (!known->second.is_private || members_.count({room, user}))) {
    done(Status::Ok());
    return;
  }
  bool queued = services_->db->Submit([this, room, user, done = std::move(done)](PgConn& pg) mutable {
    auto info = GetRoom(pg, room);
    Status verdict = info.status();
    bool member = false;
    if (info.ok() && info->is_private) {
      auto m = IsMember(pg, room, user);
      verdict = !m.ok() ? m.status() : *m ? Status::Ok() : Status::PermissionDenied("you are not a member of this private room");
      member = m.ok() && *m;
    }
    Post([this, room, user, info, member, verdict, done = std::move(done)] {
      if (info.ok()) room_facts_[room] = {info->is_private, info->moderation};
      if (member) members_.insert({room, user});
      done(verdict);
    });
  });
  if (!queued) done(Status::Unavailable("busy", "the server is overloaded; try again"));
}

const std::string& Loop::RoomModeration(int64_t room) const {
  static const std::string kDefault = "tag";
  auto it = room_facts_.find(room);
  return it == room_facts_.end() ? kDefault : it->second.moderation;
}

}  // namespace chatpipe
