#include "ingress/redis_links.h"

#include <hiredis/adapters/libevent.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string_view>
#include <sys/ioctl.h>

#include "ingress/task_queue.h"

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

RedisLinks::RedisLinks(event_base* base, TaskQueue* tasks, Listener* listener, std::string host, int port,
                       std::string name, std::atomic<int>* links_up)
    : base_(base),
      tasks_(tasks),
      listener_(listener),
      host_(std::move(host)),
      port_(port),
      name_(std::move(name)),
      links_up_(links_up) {}

void RedisLinks::Count(bool subscriber, bool up) {
  bool& counted = subscriber ? sub_counted_ : cmd_counted_;
  if (counted != up) links_up_->fetch_add(up ? 1 : -1, std::memory_order_relaxed);
  counted = up;
}

void RedisLinks::Close() {
  stopping_ = true;  // no reconnect from the disconnect callbacks
  // The fields stay set while a context is freed: hiredis refuses a command on a context being freed,
  // so a callback's command answers nullptr rather than reaching a context half gone.
  if (cmd_) redisAsyncFree(cmd_);
  if (sub_) redisAsyncFree(sub_);
  cmd_ = sub_ = nullptr;
  Count(false, false);
  Count(true, false);
  for (event** e : {&reconnect_cmd_, &reconnect_sub_}) {
    if (*e) event_free(*e);
    *e = nullptr;
  }
}

void RedisLinks::Connect() {
  Connect(false);
  Connect(true);
}

void RedisLinks::Connect(bool subscriber) {
  redisAsyncContext* ac = redisAsyncConnect(host_.c_str(), port_);
  if (!ac || ac->err) {
    spdlog::warn("{}: redis: {}", name_, ac ? ac->errstr : "out of memory");
    if (ac) redisAsyncFree(ac);
    ScheduleReconnect(subscriber);
    return;
  }
  ac->data = this;
  redisLibeventAttach(ac, base_);
  redisAsyncSetConnectCallback(ac, &RedisLinks::OnConnect);
  redisAsyncSetDisconnectCallback(ac, &RedisLinks::OnDisconnect);
  (subscriber ? sub_ : cmd_) = ac;
}

void RedisLinks::ScheduleReconnect(bool subscriber) {
  if (stopping_) return;
  event*& timer = subscriber ? reconnect_sub_ : reconnect_cmd_;
  if (!timer)
    timer = evtimer_new(base_, subscriber ? &RedisLinks::OnReconnectSubscriber : &RedisLinks::OnReconnectCommand, this);
  evtimer_add(timer, &kRedisRetry);
}

void RedisLinks::OnReconnectCommand(int, short, void* arg) { static_cast<RedisLinks*>(arg)->Connect(false); }
void RedisLinks::OnReconnectSubscriber(int, short, void* arg) { static_cast<RedisLinks*>(arg)->Connect(true); }

void RedisLinks::OnConnect(const redisAsyncContext* ac, int status) {
  auto* links = static_cast<RedisLinks*>(ac->data);
  bool subscriber = ac == links->sub_;
  if (status != REDIS_OK) {
    spdlog::warn("{}: redis connect failed: {}", links->name_, ac->errstr);
    (subscriber ? links->sub_ : links->cmd_) = nullptr;  // hiredis frees the context itself
    links->ScheduleReconnect(subscriber);
    return;
  }
  // First on the link, so answered before anything the hubs send (and before SUBSCRIBE changes the
  // subscriber link's mode).
  redisAsyncCommand(const_cast<redisAsyncContext*>(ac), &RedisLinks::OnFirstPong, nullptr, "PING");
  if (subscriber) {
    links->sub_ready_ = true;
    links->listener_->OnSubscriberReady();
  } else {
    links->cmd_ready_ = true;
  }
}

void RedisLinks::OnFirstPong(redisAsyncContext* ac, void* reply, void*) {
  auto* links = static_cast<RedisLinks*>(ac->data);
  // No reply: the link was lost or is being freed (OnDisconnect and Close count that).
  if (reply && (ac == links->cmd_ || ac == links->sub_)) links->Count(ac == links->sub_, true);
}

void RedisLinks::OnDisconnect(const redisAsyncContext* ac, int) {
  auto* links = static_cast<RedisLinks*>(ac->data);
  bool subscriber = ac == links->sub_;
  links->Count(subscriber, false);
  if (subscriber) {
    links->sub_ = nullptr;
    links->sub_ready_ = false;
    if (!links->stopping_) links->listener_->OnSubscriberLost();
  } else {
    links->cmd_ = nullptr;
    links->cmd_ready_ = false;
  }
  if (!links->stopping_) {
    spdlog::warn("{}: redis {} connection lost; reconnecting", links->name_, subscriber ? "subscriber" : "command");
    links->ScheduleReconnect(subscriber);
  }
}

void RedisLinks::Command(const std::vector<std::string>& args, std::function<void(redisReply*)> done) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  Send(argv, lens, std::move(done));
}

void RedisLinks::Eval(const RedisScript& script, std::vector<std::string> args, std::function<void(redisReply*)> done) {
  struct Call {  // kept until the reply, for the one retry
    std::vector<std::string> args;
    std::function<void(redisReply*)> done;
  };
  auto call = std::make_shared<Call>(Call{std::move(args), std::move(done)});
  std::vector<const char*> argv{"EVALSHA", script.sha1.c_str()};
  std::vector<size_t> lens{7, script.sha1.size()};
  for (const auto& a : call->args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  Send(argv, lens, [this, &script, call](redisReply* r) {
    if (!r || r->type != REDIS_REPLY_ERROR || std::string_view(r->str, r->len).substr(0, 8) != "NOSCRIPT")
      return call->done(r);
    call->args.insert(call->args.begin(), {"EVAL", script.body});
    Command(call->args, std::move(call->done));
  });
}

void RedisLinks::Send(std::vector<const char*>& argv, const std::vector<size_t>& lens,
                      std::function<void(redisReply*)> done) {
  if (!cmd_ || !cmd_ready_) {
    tasks_->Post([done = std::move(done)] { done(nullptr); });
    return;
  }
  auto* cb = new std::function<void(redisReply*)>(std::move(done));
  if (redisAsyncCommandArgv(cmd_, &OnCommandReply, cb, static_cast<int>(argv.size()), argv.data(), lens.data()) !=
      REDIS_OK) {
    tasks_->Post([done = std::move(*cb)] { done(nullptr); });  // `done` itself was moved into cb
    delete cb;
  }
}

void RedisLinks::OnSubscriberReply(redisAsyncContext* ac, void* r, void*) {
  auto* links = static_cast<RedisLinks*>(ac->data);
  auto* reply = static_cast<redisReply*>(r);
  if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) return;
  std::string_view kind(reply->element[0]->str, reply->element[0]->len);
  std::string_view channel(reply->element[1]->str, reply->element[1]->len);
  if (kind == "message")
    links->listener_->OnChannelMessage(channel, std::string_view(reply->element[2]->str, reply->element[2]->len));
  else if (kind == "subscribe")
    links->listener_->OnSubscribed(channel);
  else if (kind == "unsubscribe")
    links->listener_->OnUnsubscribed(channel);
}

void RedisLinks::Subscribe(const std::string& channel) {
  if (!sub_ || !sub_ready_) return;
  redisAsyncCommand(sub_, &RedisLinks::OnSubscriberReply, nullptr, "SUBSCRIBE %b", channel.data(), channel.size());
}

void RedisLinks::Unsubscribe(const std::string& channel) {
  if (!sub_ || !sub_ready_) return;
  redisAsyncCommand(sub_, &RedisLinks::OnSubscriberReply, nullptr, "UNSUBSCRIBE %b", channel.data(), channel.size());
}

void RedisLinks::DrainSubscriber() {
  for (int i = 0; i < kMaxSubscriberReads && sub_ && sub_ready_; ++i) {
    int pending = 0;
    if (ioctl(sub_->c.fd, FIONREAD, &pending) < 0 || pending == 0) return;
    redisAsyncHandleRead(sub_);  // a lost connection clears sub_ from its callback
  }
}

}  // namespace chatpipe
