// Loop: one ingress thread with its own event_base, listener and connections, and the parts that
// serve them.
//
// memcached's model with SO_REUSEPORT: every loop listens on the same port and the kernel spreads new
// connections over them; a connection then lives and dies on its loop. The Loop owns the thread, the
// event_base, the connection registry (connections are found by id, so an answer that arrives after
// its connection closed finds nothing) and the end-of-iteration flush that writes corked output. It
// also owns, and wires together, what its connections use:
//   TaskQueue   how other threads (the Kafka delivery poller, DbPool threads) hand answers back; it
//               bounds the answers the loop may owe, and a loop owing kMaxOwedAnswers answers its
//               clients Busy() (503) instead of starting more work (see task_queue.h);
//   RedisLinks  the command and subscriber connections to Redis, each reconnecting by itself;
//   RoomHub, UserHub, RoomList, RoomAccess   rooms and fan-out, users and presence, the room list,
//               who may use which room;
//   BoardHub, PlacementBatch   the pixel board's subscribers and reads, and its placements on their
//               way to Kafka, one message per loop iteration;
//   SendAllowance   what the loop knows of its users' shared send buckets, settled with Redis once
//               per loop iteration.
// It keeps the connections' buffer pool too: one read buffer for all, and output buffers lent only
// while a connection has output. Nothing here is locked but the TaskQueue.
#pragma once

#include <event2/event.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "ingress/board_hub.h"
#include "ingress/connection_table.h"
#include "ingress/placement_batch.h"
#include "ingress/redis_links.h"
#include "ingress/room_access.h"
#include "ingress/room_hub.h"
#include "ingress/room_list.h"
#include "ingress/send_allowance.h"
#include "ingress/services.h"
#include "ingress/task_queue.h"
#include "ingress/user_hub.h"

struct evbuffer;
struct evconnlistener;

namespace chatpipe {

class Connection;

class Loop : private RedisLinks::Listener {
 public:
  // Far above what a loop has in flight at full speed (its message rate times Kafka's acknowledgement
  // time: a few thousand), so it only bites when answers stop coming back (Kafka or PostgreSQL
  // stalled); then memory stays bounded and clients hear "busy" at once.
  static constexpr size_t kMaxOwedAnswers = 1 << 16;

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
  // From any thread, once, before Stop (SIGTERM): closes the listener, so that new connections go to
  // another process on the port or are refused; closes idle HTTP connections and has busy ones close
  // after their answer (Connection::Drain); and once no answer is owed and no send or placement
  // awaits its answer, closes every WebSocket with 1012. One timer checks every kDrainTick until drained().
  void Drain();
  bool drained() const { return drained_; }
  void LogUndrained();  // from any thread, past the drain's deadline: logs what is left (Stop cuts it)

  // Runs the end-of-iteration flush once this iteration's callbacks are done: the sends' tokens
  // (SendAllowance::Flush), the placements taken (PlacementBatch::Flush), the rooms' batches
  // (RoomHub::Flush), then one direct write per WebSocket that was sent anything (Connection::Uncork).
  void ScheduleFlush();
  void WantsWrite(uint64_t conn_id);  // a corked WebSocket has output; written at the flush

  event_base* base() { return base_; }
  Services& services() { return *services_; }
  DbPool& db() { return *services_->db; }
  TaskQueue& tasks() { return tasks_; }
  RedisLinks& redis() { return redis_; }
  RoomHub& rooms() { return rooms_; }
  UserHub& users() { return users_; }
  RoomList& room_list() { return room_list_; }
  RoomAccess& access() { return access_; }
  BoardHub& board() { return board_; }
  PlacementBatch& placements() { return placements_; }
  SendAllowance& send_allowance() { return send_allowance_; }
  const std::string& redis_prefix() const { return prefix_; }
  int index() const { return index_; }

  // Connections read into this loop's one buffer, and hold an output buffer only while they have
  // output: an idle connection then costs no buffer at all, and a busy one reuses a spare.
  static constexpr size_t kReadBufferSize = 65536;
  char* read_buffer() { return read_buffer_.get(); }
  evbuffer* BorrowBuffer();
  void ReturnBuffer(evbuffer* empty);

  // The connections' timeouts, as libevent common timeouts: thousands of events sharing one duration
  // sit in a queue rather than the timer heap, so moving one on at every read costs O(1).
  const timeval* idle_timeout() const { return idle_timeout_; }    // --http-idle-timeout-ms
  const timeval* request_timeout() const { return request_timeout_; }  // --http-request-timeout-ms
  const timeval* flush_timeout() const { return flush_timeout_; }  // a closing connection's last output

  Connection* FindConnection(uint64_t id);
  void CloseConnection(uint64_t id);  // frees it now; callbacks holding the id then find nothing

 private:
  static void OnAccept(evconnlistener*, int fd, sockaddr*, int, void* arg);
  static void OnAcceptError(evconnlistener*, void* arg);
  static void OnWake(int, short, void* arg);
  static void OnFlush(int, short, void* arg);
  static void OnSilenceSweep(int, short, void* arg);
  static void OnDrainTick(int, short, void* arg);
  void DrainStep();
  bool SendsAwaitAck();
  // RedisLinks::Listener: the subscriber's events, routed to the hubs.
  void OnSubscriberReady(size_t shard) override;
  void OnSubscriberLost(size_t shard) override;
  void OnSubscribed(std::string_view channel) override;
  void OnUnsubscribed(std::string_view channel) override;
  void OnChannelMessage(std::string_view channel, std::string_view payload) override;

  const int index_;
  Services* services_;
  std::string prefix_;
  event_base* base_;  // freed last: everything below has events on it
  evconnlistener* listener_ = nullptr;
  std::thread thread_;

  TaskQueue tasks_{kMaxOwedAnswers};
  event* wake_event_ = nullptr;
  event* flush_event_ = nullptr;
  bool flush_scheduled_ = false;
  event* drain_event_ = nullptr;  // the drain's timer, from Drain() until drained
  std::atomic<bool> drained_{false};
  std::vector<uint64_t> to_write_;  // corked WebSockets with output, by id (they may close meanwhile)

  event* silence_event_ = nullptr;  // the sweep of WebSockets gone silent (OnSilenceSweep)
  size_t sweep_slices_ = 1;          // timer ticks to a whole pass of the sweep
  const timeval* idle_timeout_;
  const timeval* request_timeout_;
  const timeval* flush_timeout_;
  // Held open to be given up when accept() finds no descriptor left (EMFILE): see OnAcceptError.
  int reserve_fd_ = -1;

  std::unique_ptr<char[]> read_buffer_{new char[kReadBufferSize]};
  std::vector<evbuffer*> spare_buffers_;

  ConnectionTable<Connection> connections_;

  RedisLinks redis_;  // closed in ~Loop while the hubs its pending callbacks reach are alive
  RoomHub rooms_;
  UserHub users_;
  RoomList room_list_{this};
  RoomAccess access_{this};
  BoardHub board_{this};
  PlacementBatch placements_{this};
  SendAllowance send_allowance_;
};

}  // namespace chatpipe
