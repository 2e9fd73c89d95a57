// ConnectionLimits: how long a client connection may take and how many there may be, for ingress.
//
// One struct (a member of IngressConfig) so that every per-connection bound is set in one place, from
// flags and CHATPIPE_* variables (AddConnectionLimitOptions), and listed in one place in --help.
// Timeouts are in milliseconds; a count of 0 means no limit.
#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>

namespace chatpipe {

struct ConnectionLimits {
  int ws_ping_interval_ms = 25000;       // a WebSocket that sent nothing for this long is pinged
  int ws_missed_pongs = 2;               // closed (4003) when this many pings in a row went unanswered
  int http_request_timeout_ms = 10000;   // a request's headers and body must arrive within this (408)
  int http_idle_timeout_ms = 120000;     // a keep-alive HTTP connection with no request is closed
  int max_connections = 0;               // per process; 0: the descriptor limit less kReservedFds
  int max_connections_per_address = 1000;  // per client IPv4 address, per process
  int max_rooms_per_connection = 100;    // rooms one WebSocket may be in at once
  int max_idle_rooms = 1000;             // rooms with no member a loop stays subscribed to (for quick re-joins)
  // TCP keepalive of accepted sockets until they become WebSockets: a peer gone without a word
  // (cable, NAT entry) is found after idle + interval * count seconds of silence; idle 0: none.
  int tcp_keepalive_idle_s = 60;
  int tcp_keepalive_interval_s = 10;
  int tcp_keepalive_count = 5;

  // Descriptors kept for the process itself (Kafka, PostgreSQL, Redis, eventfds) when
  // max_connections follows the descriptor limit.
  static constexpr int kReservedFds = 128;
  // max_connections, or the descriptor limit less kReservedFds when it is 0.
  int EffectiveMaxConnections() const;
};

void AddConnectionLimitOptions(CLI::App* cmd, ConnectionLimits* limits);

// Sets an accepted client socket's options: TCP_NODELAY, and keepalive as `limits` say.
void SetClientSocketOptions(int fd, const ConnectionLimits& limits);
// Turns TCP keepalive off on a socket that became a WebSocket: its pings take over.
void EndTcpKeepalive(int fd);

}  // namespace chatpipe
