// Worker: one generator thread with its own event_base and the connections given to it.
//
// The thread runs the whole life of its connections without blocking: it opens them a bounded number
// at a time (TCP connect from a chosen 127.0.0.x source address, then the WebSocket handshake), joins
// each to its room, and says ready. Once the process's main thread hands it the start time, it sends
// on an open-loop schedule: message k of this thread is due at start + k / rate whatever the server
// does, carries that due time as its stamp, and goes to the next open sender round robin. A slow
// server therefore shows up as latency, never as a lower send rate; the thread's own lateness is
// recorded apart (lag_us) so a starved generator can be told from a slow server. After the sending
// window it drains (until every ack is in and nothing arrived for `quiet_ms`, or the drain time is up)
// and freezes its Stats: what arrives later is not counted. The main thread reads the Stats once
// done() is true and the thread no longer writes them.
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/loadgen/stats.h"

struct event_base;
struct event;
struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace chatpipe::bench {

// The server the generator talks to: chatpipe, or a peer of bench/peers/. kWs speaks chatpipe's
// frames on /ws; kSocketIo wraps the same frame objects in Socket.IO events (Engine.IO v4 over the
// WebSocket transport: open packet "0{..}", "40" to connect the namespace, "42[name,payload]"
// events, ping "2" answered with "3"); kCentrifugo speaks Centrifugo's client protocol (Centrifuge v2, JSON) on
// /connection/websocket (centrifuge.h): connect, subscribe to "room:R", publish the generator's own
// object {"room","text","client_msg_id"} as the publication's data, the publish reply as the ack.
enum class Peer : uint8_t { kChatpipe, kWs, kSocketIo, kCentrifugo };

struct ConnSpec {
  uint32_t index = 0;        // the connection's number in its process (part of its stamps)
  in_addr source{};          // local address to bind
  const std::string* token = nullptr;
  int64_t room = 0;          // 0: stays idle, joins nothing
  bool sender = false;
  bool visitor = false;      // comes and goes while the others send (WorkerConfig::churn)
};

struct WorkerConfig {
  std::string run;           // stamp prefix of this run
  Peer peer = Peer::kChatpipe;
  uint32_t proc = 0;
  sockaddr_in server{};
  std::string host_header;   // "127.0.0.1:PORT"
  ssl_ctx_st* tls = nullptr; // wss://: every connection speaks TLS, its SSL made from this (tls.h); owned by RunGenerator
  double rate = 0;           // messages per second for this thread
  int64_t duration_ns = 0;
  int64_t drain_ns = 0;
  int64_t quiet_ns = 0;
  int64_t window_ns = 0;     // Stats::timeline's window width; 0: no timeline
  double churn = 0;          // visitors closed and opened again per second while sending, in turn
  size_t text_bytes = 0;
  int connect_concurrency = 256;
  double connect_rate = 0;   // connections opened per second by this thread, at most; 0: no bound
  int64_t handshake_timeout_ms = 20000;
};

class Conn;

class Worker {
 public:
  Worker(WorkerConfig config, std::vector<ConnSpec> specs);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void Start();                                  // starts the thread, which starts connecting
  bool ready() const { return ready_.load(std::memory_order_acquire); }
  void Go(int64_t start_ns) { start_ns_.store(start_ns, std::memory_order_release); }
  bool done() const { return done_.load(std::memory_order_acquire); }
  const Stats& stats() const { return stats_; }  // only once done()
  void Quit();                                   // closes everything and joins the thread

 private:
  friend class Conn;
  static void OnTick(int, short, void* arg);
  static void OnSendTimer(int, short, void* arg);
  void Resolved();  // a connection opened and joined (or failed at either)
  void StartNext();
  size_t ConnectsAllowed() const;  // how many may have been started by now, under --connect-rate
  void ScheduleSend(int64_t now_ns);
  void SendDue();
  void Churn(int64_t now_ns);
  void Freeze();
  void MaskKey(uint8_t key[4]);

  WorkerConfig config_;
  std::vector<ConnSpec> specs_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<Conn*> senders_;
  std::vector<size_t> visitors_;  // their indexes in conns_: a visitor's Conn is replaced when it comes again
  size_t next_visitor_ = 0;
  uint64_t churned_ = 0;          // visitors sent away and back so far
  size_t next_to_start_ = 0;
  size_t resolved_ = 0;
  size_t next_sender_ = 0;
  uint64_t scheduled_ = 0;       // schedule slots passed so far
  int64_t start_ = 0;            // this thread's copy of start_ns_, once seen
  int64_t last_activity_ns_ = 0; // last ack or delivery, for the quiet period
  uint64_t pending_acks_ = 0;
  bool frozen_ = false;
  std::mt19937_64 rng_;

  static constexpr size_t kReadBufferSize = 256 * 1024;
  std::unique_ptr<char[]> read_buffer_{new char[kReadBufferSize]};  // every connection reads into it
  std::string frame_scratch_;  // every connection encodes its frames here
  event_base* base_ = nullptr;
  event* tick_ = nullptr;
  event* send_timer_ = nullptr;
  std::thread thread_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> done_{false};
  std::atomic<bool> quit_{false};
  std::atomic<int64_t> start_ns_{0};
  Stats stats_;
};

int64_t NowNs();  // CLOCK_REALTIME

}  // namespace chatpipe::bench
