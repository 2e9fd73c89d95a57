// The `run` and `setup` subcommands of chatpipe-loadgen: one generator process, and the rooms a
// scenario shares between its generator processes.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace chatpipe::bench {

struct RunOptions {
  std::string url = "http://127.0.0.1:8080";  // ingress, or https:// for wss:// (nginx); the host an IPv4 address
  std::string ca_file;             // https: the PEM file of the CA that signed the server's certificate
  std::string token_url;           // where guest tokens come from (POST /api/sessions/guest); empty: url
  std::string peer = "chatpipe";   // or "ws", "socketio" (bench/peers/), "centrifugo": no tokens fetched then
  int connections = 0;
  int threads = 1;
  int source_ips = 8;              // bind 127.0.0.2 .. 127.0.0.(1+source_ips), round robin
  std::vector<int64_t> rooms;      // member conn_base + i joins rooms[(conn_base + i) % size]; none: idle
  int conn_base = 0;               // this process's first member in the scenario's numbering
  int members = 0;                 // members in the whole scenario; 0: conn_base + this process's
  int senders = 0;                 // senders in the whole scenario, spread over the rooms (placement.h)
  int visitors = 0;                // its last `visitors` connections come and go (churn)
  std::vector<int64_t> visitor_rooms;  // visitor v joins visitor_rooms[(proc + v) % size]
  double churn = 0;                // visitors sent away and back per second, this process in all
  double rate = 0;                 // messages per second in the whole scenario; this process sends
                                   // its senders' share
  double duration_s = 10;
  double drain_s = 10;
  int quiet_ms = 1000;
  double window_s = 0;             // > 0: count per window of this many seconds (Stats::timeline)
  size_t text_bytes = 0;
  int clients_per_user = 0;        // 0: one guest user for the whole process
  int connect_concurrency = 256;   // handshakes in flight per thread
  double connect_rate = 0;         // connections this process opens per second, at most; 0: no bound
  double ready_timeout_s = 120;    // connecting and joining, at most
  std::string run = "lg";
  uint32_t proc = 0;
  std::string barrier_dir;         // see RunGenerator
  double barrier_timeout_s = 300;
  std::string out;                 // JSON result file
};

// The ingress a generator talks to, from its --url (http://IPV4:PORT, or https:// for wss://).
struct Target {
  sockaddr_in addr{};
  std::string host_port;  // "IPV4:PORT", the Host header
  std::string host;       // "IPV4", what the server's certificate must name with https
  bool tls = false;
};
Result<Target> ParseUrl(const std::string& url);

// A new guest user's token (POST /api/sessions/guest), by a blocking request.
Result<std::string> GuestToken(const std::string& url);

// Runs one generator process. With a barrier directory it writes ready.<proc> once connected and
// joined, starts at the time (CLOCK_REALTIME ns) written in `go`, writes its result, then writes
// done.<proc> and holds its connections until `release` appears; without one it starts at once.
Status RunGenerator(const RunOptions& options);

// Creates `count` public rooms named <prefix>-<i>, then checks the whole pipeline (ingress -> Kafka
// -> persister -> PostgreSQL/Redis) by posting a message to the first room and waiting until its
// history shows it. Returns the room ids.
Result<std::vector<int64_t>> SetUpRooms(const std::string& url, int count, const std::string& prefix,
                                        double timeout_s);

}  // namespace chatpipe::bench
