// RedisLinks: one loop's connections to Redis, through hiredis' libevent adapter on the loop's
// event_base: per Redis shard (--redis names one or several), one for commands (history, the room
// list cache, presence) and one subscribed to the channels, of the rooms and users the loop's clients
// have, that the shard holds. Every command and channel goes to the shard of the key or channel it
// names (storage/redis_shards.h), as the workers place them.
//
// Every link reconnects by itself (every 500 ms while its Redis is away). The subscribers' events go
// to a Listener, the loop, which routes them to its hubs: once a shard's subscriber is (re)connected
// the hubs subscribe that shard's channels again and its rooms catch up from storage, so clients miss
// nothing published while it was away, and the rooms on the other shards never notice. A command sent
// while its link is down answers nullptr, never inside the call: the answer is deferred through the
// loop's TaskQueue.
//
// Each link counts itself in a counter the process's loops share (/readyz reads it: ingress/health.h)
// once Redis has answered a PING on it, not at the TCP connect: a proxy, or a Redis that is not
// serving, may accept a connection and close it at once.
//
// Owned by its Loop and used on the loop's thread only; it holds the event_base and the TaskQueue,
// which the Loop owns and which outlive it, and the counter, which outlives every loop.
#pragma once

#include <event2/event.h>
#include <hiredis/async.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "storage/redis_client.h"

namespace chatpipe {

class TaskQueue;

// A Lua script for RedisLinks::Eval and its digest, computed once: make each a function-local static.
struct RedisScript {
  explicit RedisScript(const char* text) : body(text), sha1(ScriptSha1(text)) {}
  const char* body;
  std::string sha1;
};

class RedisLinks {
 public:
  class Listener {
   public:
    // A shard's subscriber connected, or connected again after a loss: only its channels are affected.
    virtual void OnSubscriberReady(size_t shard) = 0;
    virtual void OnSubscriberLost(size_t shard) = 0;
    virtual void OnSubscribed(std::string_view channel) = 0;  // Redis confirmed a SUBSCRIBE
    virtual void OnUnsubscribed(std::string_view channel) = 0;  // Redis confirmed an UNSUBSCRIBE
    virtual void OnChannelMessage(std::string_view channel, std::string_view payload) = 0;

   protected:
    ~Listener() = default;
  };

  // `shards` in --redis order (it places the keys); `name` goes into log lines ("loop 0"); `links_up`
  // counts the links Redis answers on (two per shard when all are up).
  RedisLinks(event_base* base, TaskQueue* tasks, Listener* listener, std::vector<RedisAddress> shards,
             std::string name, std::atomic<int>* links_up);
  ~RedisLinks() { Close(); }
  RedisLinks(const RedisLinks&) = delete;
  RedisLinks& operator=(const RedisLinks&) = delete;

  size_t shards() const { return shards_.size(); }
  // The shard that holds `channel` (or a key).
  size_t ShardOf(std::string_view channel) const;

  void Connect();  // every link
  // Frees every context and the reconnect timers, before the event_base goes. Callbacks still pending
  // get a null reply; a command they send meanwhile answers nullptr through the TaskQueue.
  void Close();
  // From now on a lost link stays lost (the loop is stopping); the links stay up for its last commands.
  void StopReconnecting() { stopping_ = true; }

  // A command on the command link of the shard of its key (RoutingKey); `done` gets the reply, or
  // nullptr if that Redis is down. A command that names several keys must keep them on one shard (a
  // shared hash tag).
  void Command(const std::vector<std::string>& args, std::function<void(redisReply*)> done);
  // `done` runs once every shard has answered a PING sent now, so has answered every command sent
  // before it (at once for a shard that is down).
  void Barrier(std::function<void()> done);
  // A script by its digest (EVALSHA), so its text does not cross the link at every call. Redis
  // without it (restarted, SCRIPT FLUSH) answers NOSCRIPT, and the call goes once more as EVAL, which
  // caches it; that retry goes behind what was sent meanwhile, so use this only for scripts whose
  // calls need no order among them. `args`: numkeys, the keys (one shard's), then the arguments.
  void Eval(const RedisScript& script, std::vector<std::string> args, std::function<void(redisReply*)> done);
  // SUBSCRIBE on the subscriber link of the channel's shard; while it is down, nothing
  // (OnSubscriberReady resubscribes).
  void Subscribe(const std::string& channel);
  // UNSUBSCRIBE; a SUBSCRIBE of the same channel must wait for OnUnsubscribed, or hiredis may drop the
  // new subscription's callback when the UNSUBSCRIBE's confirmation arrives.
  void Unsubscribe(const std::string& channel);
  // Reads what the subscriber sockets already hold (up to 1 MiB each), so that everything that has
  // arrived goes into this loop iteration's room batches: hiredis alone reads 16 KiB per event.
  void DrainSubscriber();

 private:
  // One connection to one shard; a context's data points at its Link.
  struct Link {
    RedisLinks* links;
    size_t shard;
    bool subscriber;
    redisAsyncContext* ac = nullptr;
    bool ready = false;
    bool counted = false;  // in links_up_
    event* reconnect = nullptr;
  };
  struct Shard {
    RedisAddress address;
    Link cmd;
    Link sub;
  };

  void Connect(Link& link);
  void CommandOn(size_t shard, const std::vector<std::string>& args, std::function<void(redisReply*)> done);
  void Send(size_t shard, std::vector<const char*>& argv, const std::vector<size_t>& lens,
            std::function<void(redisReply*)> done);
  void ScheduleReconnect(Link& link);
  void Count(Link& link, bool up);  // in links_up_, once per change
  static void OnReconnect(int, short, void* arg);
  static void OnConnect(const redisAsyncContext* ac, int status);
  static void OnDisconnect(const redisAsyncContext* ac, int status);
  static void OnSubscriberReply(redisAsyncContext* ac, void* reply, void* privdata);
  static void OnFirstPong(redisAsyncContext* ac, void* reply, void* privdata);

  event_base* base_;
  TaskQueue* tasks_;
  Listener* listener_;
  const std::string name_;
  std::atomic<int>* links_up_;
  std::vector<std::unique_ptr<Shard>> shards_;  // unique_ptr: contexts point into them
  bool stopping_ = false;
};

}  // namespace chatpipe
