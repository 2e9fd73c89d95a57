#include "ingress/connection_limits.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>

namespace chatpipe {

int ConnectionLimits::EffectiveMaxConnections() const {
  if (max_connections > 0) return max_connections;
  rlimit fds{};
  if (getrlimit(RLIMIT_NOFILE, &fds) != 0 || fds.rlim_cur == RLIM_INFINITY) return 1 << 20;
  return static_cast<int>(std::max<rlim_t>(fds.rlim_cur, 2 * kReservedFds) - kReservedFds);
}

void AddConnectionLimitOptions(CLI::App* cmd, ConnectionLimits* l) {
  cmd->add_option("--ws-ping-interval-ms", l->ws_ping_interval_ms,
                  "a WebSocket that sent nothing for this long is pinged (browsers answer on their own)")
      ->envname("CHATPIPE_WS_PING_INTERVAL_MS")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--ws-missed-pongs", l->ws_missed_pongs,
                  "a WebSocket is closed (4003) once this many pings in a row went unanswered")
      ->envname("CHATPIPE_WS_MISSED_PONGS")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--http-request-timeout-ms", l->http_request_timeout_ms,
                  "an HTTP request's headers and body must arrive within this, or 408 and close")
      ->envname("CHATPIPE_HTTP_REQUEST_TIMEOUT_MS")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--http-idle-timeout-ms", l->http_idle_timeout_ms, "an idle keep-alive HTTP connection is closed after this")
      ->envname("CHATPIPE_HTTP_IDLE_TIMEOUT_MS")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--max-connections", l->max_connections,
                  "client connections per process; more are closed at accept (0: the descriptor limit less " +
                      std::to_string(ConnectionLimits::kReservedFds) + ")")
      ->envname("CHATPIPE_MAX_CONNECTIONS")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-connections-per-address", l->max_connections_per_address,
                  "client connections per IP address per process; more are closed at accept (0: no limit)")
      ->envname("CHATPIPE_MAX_CONNECTIONS_PER_ADDRESS")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-rooms-per-connection", l->max_rooms_per_connection,
                  "rooms one WebSocket may be in at once; a join beyond gets error too_many_rooms")
      ->envname("CHATPIPE_MAX_ROOMS_PER_CONNECTION")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--max-idle-rooms", l->max_idle_rooms,
                  "rooms nobody is in that an event loop stays subscribed to; beyond, the longest empty is unsubscribed")
      ->envname("CHATPIPE_MAX_IDLE_ROOMS")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--tcp-keepalive-idle-s", l->tcp_keepalive_idle_s,
                  "seconds an HTTP connection may be silent before TCP keepalive probes it (0: no keepalive; WebSockets are pinged instead)")
      ->envname("CHATPIPE_TCP_KEEPALIVE_IDLE_S")->capture_default_str()->check(CLI::Range(0, 32767));
  cmd->add_option("--tcp-keepalive-interval-s", l->tcp_keepalive_interval_s, "seconds between TCP keepalive probes")
      ->envname("CHATPIPE_TCP_KEEPALIVE_INTERVAL_S")->capture_default_str()->check(CLI::Range(1, 32767));
  cmd->add_option("--tcp-keepalive-count", l->tcp_keepalive_count,
                  "TCP keepalive probes unanswered before the kernel ends the connection")
      ->envname("CHATPIPE_TCP_KEEPALIVE_COUNT")->capture_default_str()->check(CLI::Range(1, 127));
}

// Keepalive probes find a peer that vanished without a word on an HTTP keep-alive connection, where
// nothing is sent.
void SetClientSocketOptions(int fd, const ConnectionLimits& l) {
  const int one = 1, on = l.tcp_keepalive_idle_s > 0 ? 1 : 0;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  if (!on) return;
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &l.tcp_keepalive_idle_s, sizeof l.tcp_keepalive_idle_s);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &l.tcp_keepalive_interval_s, sizeof l.tcp_keepalive_interval_s);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &l.tcp_keepalive_count, sizeof l.tcp_keepalive_count);
}

// A WebSocket's pings find a vanished peer (its missed pongs close it), and the kernel sends no
// keepalive probe while a ping waits for its ACK, so keepalive only costs: its timer fires once per
// idle time on every socket (17,000 a second at a million and 60 s), and with pings as rare as that
// idle time, probes went out in bursts that overflowed the kernel's receive backlog.
void EndTcpKeepalive(int fd) {
  const int off = 0;
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &off, sizeof off);
}

}  // namespace chatpipe
