// Conn: one WebSocket client of a load generator thread (worker.h), from connect to close: the
// handshake, the join, sending its messages and reading the server's frames into the thread's Stats.
// Owned by its Worker and used on the Worker's loop thread only; it reaches into the Worker (a
// friend) for the loop, the configuration, the Stats and the shared read buffer.
#pragma once

#include <event2/util.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bench/loadgen/centrifuge.h"
#include "bench/loadgen/seen.h"
#include "bench/loadgen/stamp.h"
#include "bench/loadgen/stats.h"
#include "bench/loadgen/worker.h"
#include "ingress/websocket.h"

struct bufferevent;

namespace chatpipe::bench {

class Conn {
 public:
  // `again`: a visitor coming back. It counts in Stats::reconnected, not as a connection or join of
  // its own, and is resolved from the start (the worker was ready long ago).
  Conn(Worker* worker, const ConnSpec& spec, bool again = false)
      : w_(worker), spec_(spec), again_(again), resolved_(again) {}
  ~Conn();

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
  void Write(std::string_view bytes);
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

}  // namespace chatpipe::bench
