#include "ingress/redis_links.h"

#include <hiredis/adapters/libevent.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string_view>
#include <sys/ioctl.h>

#include "ingress/task_queue.h"
#include "storage/redis_shards.h"

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

RedisLinks::RedisLinks(event_base* base, TaskQueue* tasks, Listener* listener, std::vector<RedisAddress> shards,
                       std::string name, std::atomic<int>* links_up)
    : base_(base), tasks_(tasks), listener_(listener), name_(std::move(name)), links_up_(links_up) {
  for (size_t i = 0; i < shards.size(); ++i)
    shards_.push_back(std::unique_ptr<Shard>(new Shard{shards[i], Link{this, i, false}, Link{this, i, true}}));
}

size_t RedisLinks::ShardOf(std::string_view channel) const { return RedisShardOf(channel, shards_.size()); }

void RedisLinks::Count(Link& link, bool up) {
  if (link.counted != up) links_up_->fetch_add(up ? 1 : -1, std::memory_order_relaxed);
  link.counted = up;
}

void RedisLinks::Close() {
  stopping_ = true;  // no reconnect from the disconnect callbacks
  for (auto& shard : shards_)
    for (Link* link : {&shard->cmd, &shard->sub}) {
      // The field stays set while the context is freed: hiredis refuses a command on a context being
      // freed, so a callback's command answers nullptr rather than reaching a context half gone.
      if (link->ac) redisAsyncFree(link->ac);
      link->ac = nullptr;
      Count(*link, false);
      if (link->reconnect) event_free(link->reconnect);
      link->reconnect = nullptr;
    }
}

void RedisLinks::Connect() {
  for (auto& shard : shards_) {
    Connect(shard->cmd);
    Connect(shard->sub);
  }
}

void RedisLinks::Connect(Link& link) {
  const RedisAddress& address = shards_[link.shard]->address;
  redisAsyncContext* ac = redisAsyncConnect(address.host.c_str(), address.port);
  if (!ac || ac->err) {
    spdlog::warn("{}: redis {}:{}: {}", name_, address.host, address.port, ac ? ac->errstr : "out of memory");
    if (ac) redisAsyncFree(ac);
    ScheduleReconnect(link);
    return;
  }
  ac->data = &link;
  redisLibeventAttach(ac, base_);
  redisAsyncSetConnectCallback(ac, &RedisLinks::OnConnect);
  redisAsyncSetDisconnectCallback(ac, &RedisLinks::OnDisconnect);
  link.ac = ac;
}

void RedisLinks::ScheduleReconnect(Link& link) {
  if (stopping_) return;
  if (!link.reconnect) link.reconnect = evtimer_new(base_, &RedisLinks::OnReconnect, &link);
  evtimer_add(link.reconnect, &kRedisRetry);
}

void RedisLinks::OnReconnect(int, short, void* arg) {
  auto* link = static_cast<Link*>(arg);
  link->links->Connect(*link);
}

void RedisLinks::OnConnect(const redisAsyncContext* ac, int status) {
  auto* link = static_cast<Link*>(ac->data);
  RedisLinks* links = link->links;
  if (status != REDIS_OK) {
    const RedisAddress& address = links->shards_[link->shard]->address;
    spdlog::warn("{}: redis {}:{} connect failed: {}", links->name_, address.host, address.port, ac->errstr);
    link->ac = nullptr;  // hiredis frees the context itself
    links->ScheduleReconnect(*link);
    return;
  }
  // First on the link, so answered before anything the hubs send (and before SUBSCRIBE changes the
  // subscriber link's mode).
  redisAsyncCommand(const_cast<redisAsyncContext*>(ac), &RedisLinks::OnFirstPong, nullptr, "PING");
  link->ready = true;
  if (link->subscriber) links->listener_->OnSubscriberReady(link->shard);
}

void RedisLinks::OnFirstPong(redisAsyncContext* ac, void* reply, void*) {
  auto* link = static_cast<Link*>(ac->data);
  // No reply: the link was lost or is being freed (OnDisconnect and Close count that).
  if (reply && ac == link->ac) link->links->Count(*link, true);
}

void RedisLinks::OnDisconnect(const redisAsyncContext* ac, int) {
  auto* link = static_cast<Link*>(ac->data);
  RedisLinks* links = link->links;
  links->Count(*link, false);
  link->ac = nullptr;
  link->ready = false;
  if (links->stopping_) return;
  if (link->subscriber) links->listener_->OnSubscriberLost(link->shard);
  const RedisAddress& address = links->shards_[link->shard]->address;
  spdlog::warn("{}: redis {}:{} {} connection lost; reconnecting", links->name_, address.host, address.port,
               link->subscriber ? "subscriber" : "command");
  links->ScheduleReconnect(*link);
}

void RedisLinks::Command(const std::vector<std::string>& args, std::function<void(redisReply*)> done) {
  CommandOn(ShardOf(RoutingKey(args)), args, std::move(done));
}

void RedisLinks::CommandOn(size_t shard, const std::vector<std::string>& args, std::function<void(redisReply*)> done) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  Send(shard, argv, lens, std::move(done));
}

void RedisLinks::Barrier(std::function<void()> done) {
  auto left = std::make_shared<size_t>(shards_.size());
  auto then = std::make_shared<std::function<void()>>(std::move(done));
  for (size_t shard = 0; shard < shards_.size(); ++shard)
    CommandOn(shard, {"PING"}, [left, then](redisReply*) {
      if (--*left == 0) (*then)();
    });
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
  const size_t shard = ShardOf(ScriptRoutingKey(call->args));
  Send(shard, argv, lens, [this, shard, &script, call](redisReply* r) {
    if (!r || r->type != REDIS_REPLY_ERROR || std::string_view(r->str, r->len).substr(0, 8) != "NOSCRIPT")
      return call->done(r);
    call->args.insert(call->args.begin(), {"EVAL", script.body});
    CommandOn(shard, call->args, std::move(call->done));
  });
}

void RedisLinks::Send(size_t shard, std::vector<const char*>& argv, const std::vector<size_t>& lens,
                      std::function<void(redisReply*)> done) {
  const Link& link = shards_[shard]->cmd;
  if (!link.ac || !link.ready) {
    tasks_->Post([done = std::move(done)] { done(nullptr); });
    return;
  }
  auto* cb = new std::function<void(redisReply*)>(std::move(done));
  if (redisAsyncCommandArgv(link.ac, &OnCommandReply, cb, static_cast<int>(argv.size()), argv.data(), lens.data()) !=
      REDIS_OK) {
    tasks_->Post([done = std::move(*cb)] { done(nullptr); });  // `done` itself was moved into cb
    delete cb;
  }
}

void RedisLinks::OnSubscriberReply(redisAsyncContext* ac, void* r, void*) {
  RedisLinks* links = static_cast<Link*>(ac->data)->links;
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
  const Link& link = shards_[ShardOf(channel)]->sub;
  if (!link.ac || !link.ready) return;
  redisAsyncCommand(link.ac, &RedisLinks::OnSubscriberReply, nullptr, "SUBSCRIBE %b", channel.data(), channel.size());
}

void RedisLinks::Unsubscribe(const std::string& channel) {
  const Link& link = shards_[ShardOf(channel)]->sub;
  if (!link.ac || !link.ready) return;
  redisAsyncCommand(link.ac, &RedisLinks::OnSubscriberReply, nullptr, "UNSUBSCRIBE %b", channel.data(), channel.size());
}

void RedisLinks::DrainSubscriber() {
  for (auto& shard : shards_) {
    Link& link = shard->sub;
    for (int i = 0; i < kMaxSubscriberReads && link.ac && link.ready; ++i) {
      int pending = 0;
      if (ioctl(link.ac->c.fd, FIONREAD, &pending) < 0 || pending == 0) break;
      redisAsyncHandleRead(link.ac);  // a lost connection clears link.ac from its callback
    }
  }
}

}  // namespace chatpipe
