// Loop: one ingress thread with its own event_base, listener, connections, Redis connections and rooms.
//
// memcached's model with SO_REUSEPORT: every loop listens on the same port and the kernel spreads new
// connections over them; a connection then lives and dies on its loop. Nothing here is locked except
// the task queue, which is how other threads (the Kafka delivery poller, database pool threads) hand
// results back: Post() a closure, and the loop runs it on its own thread.
//
// Each loop keeps two Redis connections through hiredis' libevent adapter: one for commands (history,
// room list cache, presence) and one subscribed to the channels of the rooms its clients joined. Both
// reconnect by themselves; after the subscriber reconnects, every room catches up from PostgreSQL or
// the history list so that clients miss nothing published while it was away.
#pragma once

#include <event2/event.h>
#include <hiredis/async.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <set>
#include <vector>

#include "common/status.h"
#include "ingress/room_hub.h"
#include "ingress/room_list.h"
#include "ingress/user_hub.h"
#include "ingress/services.h"

struct evbuffer;
struct evconnlistener;

namespace chatpipe {

class Connection;

class Loop {
 public:
  Loop(int index, Services* services);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Binds this loop's listener (SO_REUSEPORT) and starts the thread. *port: 0 picks a free port and
  // receives it, so the next loops can share it.
  Status Start(const std::string& host, int* port);
  // From any thread: closes the WebSockets with 1001, publishes their leaves, and returns when the
  // thread has ended (about a Redis round trip later, 1 s at most).
  void Stop();

  void Post(std::function<void()> task);  // from any thread
  // Runs the end-of-iteration flush once this iteration's callbacks are done: the rooms' batches
  // (RoomHub::Flush), then one direct write per WebSocket that was sent anything (Connection::Uncork).
  void ScheduleFlush();
  void WantsWrite(uint64_t conn_id);  // a corked WebSocket has output; written at the flush
  bool OnLoopThread() const { return std::this_thread::get_id() == thread_.get_id(); }

  event_base* base() { return base_; }
  Services& services() { return *services_; }
  RoomHub& rooms() { return rooms_; }
  UserHub& users() { return users_; }
  RoomList& room_list() { return room_list_; }
  const std::string& redis_prefix() const { return prefix_; }
  int index() const { return index_; }

  // Connections read into this loop's one buffer, and hold an output buffer only while they have
  // output: an idle connection then costs no buffer at all, and a busy one reuses a spare.
  static constexpr size_t kReadBufferSize = 65536;
  char* read_buffer() { return read_buffer_.get(); }
  evbuffer* BorrowBuffer();
  void ReturnBuffer(evbuffer* empty);

  Connection* FindConnection(uint64_t id);
  void CloseConnection(uint64_t id);  // frees it now; callbacks holding the id then find nothing

  // A Redis command on the command connection; `done` gets the reply, or nullptr if Redis is down.
  void Redis(const std::vector<std::string>& args, std::function<void(redisReply*)> done);
  // SUBSCRIBE on the subscriber connection (RoomHub and UserHub; they never unsubscribe).
  void Subscribe(const std::string& channel);
  bool subscriber_connected() const { return sub_ready_; }

  // Per-loop cache of room facts that never change (existence, privacy) and memberships, which
  // are only ever added. Calls `done` with ok, 403 or 404; the first check of a room or a private
  // membership asks PostgreSQL.
  void CheckRoomAccess(int64_t room, int64_t user, std::function<void(Status)> done);
  void ForgetRoom(int64_t room) { room_facts_.erase(room); }
  // The room's moderation policy (tag, mask, block) as learnt by CheckRoomAccess, which every send
  // passes first; rooms never change it.
  const std::string& RoomModeration(int64_t room) const;

 private:
  static void OnAccept(evconnlistener*, int fd, sockaddr*, int, void* arg);
  static void OnWake(int, short, void* arg);
  static void OnFlush(int, short, void* arg);
  void DrainSubscriber();
  void ConnectRedis(bool subscriber);
  void ScheduleRedisReconnect(bool subscriber);
  static void OnReconnectCommand(int, short, void* arg);
  static void OnReconnectSubscriber(int, short, void* arg);
  static void OnRedisConnect(const redisAsyncContext* ac, int status);
  static void OnRedisDisconnect(const redisAsyncContext* ac, int status);
  static void OnSubscriberReply(redisAsyncContext* ac, void* reply, void* privdata);

  const int index_;
  Services* services_;
  std::string prefix_;
  event_base* base_ = nullptr;
  evconnlistener* listener_ = nullptr;
  std::thread thread_;

  std::mutex tasks_mu_;
  std::vector<std::function<void()>> tasks_;
  int wake_fd_ = -1;  // eventfd
  event* wake_event_ = nullptr;
  event* flush_event_ = nullptr;
  bool flush_scheduled_ = false;
  std::vector<uint64_t> to_write_;  // corked WebSockets with output, by id (they may close meanwhile)

  std::unique_ptr<char[]> read_buffer_{new char[kReadBufferSize]};
  std::vector<evbuffer*> spare_buffers_;

  uint64_t next_conn_id_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections_;

  redisAsyncContext* redis_cmd_ = nullptr;
  redisAsyncContext* redis_sub_ = nullptr;
  bool cmd_ready_ = false;
  bool sub_ready_ = false;
  bool stopping_ = false;
  event* reconnect_cmd_ = nullptr;
  event* reconnect_sub_ = nullptr;

  RoomHub rooms_;
  UserHub users_;
  RoomList room_list_{this};
  struct RoomFacts {
    bool is_private = false;
    std::string moderation;
  };
  std::unordered_map<int64_t, RoomFacts> room_facts_;
  std::set<std::pair<int64_t, int64_t>> members_;  // (room, user) known to be members
};

}  // namespace chatpipe
