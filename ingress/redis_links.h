// RedisLinks: one loop's two Redis connections, through hiredis' libevent adapter on the loop's
// event_base: one for commands (history, the room list cache, presence) and one subscribed to the
// channels of the rooms and users the loop's clients have.
//
// Both reconnect by themselves (every 500 ms while Redis is away). The subscriber's events go to a
// Listener, the loop, which routes them to its hubs: once it is (re)connected the hubs subscribe
// their channels again and every room catches up from storage, so clients miss nothing published
// while it was away. A command sent while the command link is down answers nullptr, never inside
// the call: the answer is deferred through the loop's TaskQueue.
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
#include <string>
#include <string_view>
#include <vector>

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
    virtual void OnSubscriberReady() = 0;  // connected, or connected again after a loss
    virtual void OnSubscriberLost() = 0;
    virtual void OnSubscribed(std::string_view channel) = 0;  // Redis confirmed a SUBSCRIBE
    virtual void OnUnsubscribed(std::string_view channel) = 0;  // Redis confirmed an UNSUBSCRIBE
    virtual void OnChannelMessage(std::string_view channel, std::string_view payload) = 0;

   protected:
    ~Listener() = default;
  };

  // `name` goes into log lines ("loop 0"); `links_up` counts the links Redis answers on.
  RedisLinks(event_base* base, TaskQueue* tasks, Listener* listener, std::string host, int port, std::string name,
             std::atomic<int>* links_up);
  ~RedisLinks() { Close(); }
  RedisLinks(const RedisLinks&) = delete;
  RedisLinks& operator=(const RedisLinks&) = delete;

  void Connect();  // both links
  // Frees both contexts and the reconnect timers, before the event_base goes. Callbacks still pending
  // get a null reply; a command they send meanwhile answers nullptr through the TaskQueue.
  void Close();
  // From now on a lost link stays lost (the loop is stopping); the links stay up for its last commands.
  void StopReconnecting() { stopping_ = true; }

  // A command on the command link; `done` gets the reply, or nullptr if Redis is down.
  void Command(const std::vector<std::string>& args, std::function<void(redisReply*)> done);
  // A script by its digest (EVALSHA), so its text does not cross the link at every call. Redis
  // without it (restarted, SCRIPT FLUSH) answers NOSCRIPT, and the call goes once more as EVAL, which
  // caches it; that retry goes behind what was sent meanwhile, so use this only for scripts whose
  // calls need no order among them. `args`: numkeys, the keys, then the arguments.
  void Eval(const RedisScript& script, std::vector<std::string> args, std::function<void(redisReply*)> done);
  // SUBSCRIBE on the subscriber link; while it is down, nothing (OnSubscriberReady resubscribes).
  void Subscribe(const std::string& channel);
  // UNSUBSCRIBE; a SUBSCRIBE of the same channel must wait for OnUnsubscribed, or hiredis may drop the
  // new subscription's callback when the UNSUBSCRIBE's confirmation arrives.
  void Unsubscribe(const std::string& channel);
  // Reads what the subscriber socket already holds (up to 1 MiB), so that everything that has
  // arrived goes into this loop iteration's room batches: hiredis alone reads 16 KiB per event.
  void DrainSubscriber();

 private:
  void Connect(bool subscriber);
  void Send(std::vector<const char*>& argv, const std::vector<size_t>& lens,
            std::function<void(redisReply*)> done);
  void ScheduleReconnect(bool subscriber);
  static void OnReconnectCommand(int, short, void* arg);
  static void OnReconnectSubscriber(int, short, void* arg);
  static void OnConnect(const redisAsyncContext* ac, int status);
  static void OnDisconnect(const redisAsyncContext* ac, int status);
  static void OnSubscriberReply(redisAsyncContext* ac, void* reply, void* privdata);
  static void OnFirstPong(redisAsyncContext* ac, void* reply, void* privdata);
  void Count(bool subscriber, bool up);  // in links_up_, once per change

  event_base* base_;
  TaskQueue* tasks_;
  Listener* listener_;
  const std::string host_;
  const int port_;
  const std::string name_;
  std::atomic<int>* links_up_;
  redisAsyncContext* cmd_ = nullptr;
  redisAsyncContext* sub_ = nullptr;
  bool cmd_ready_ = false;
  bool sub_ready_ = false;
  bool cmd_counted_ = false;  // in links_up_
  bool sub_counted_ = false;
  bool stopping_ = false;
  event* reconnect_cmd_ = nullptr;
  event* reconnect_sub_ = nullptr;
};

}  // namespace chatpipe
