// PgProbe and RedisProbe: the PostgreSQL and Redis checks of a HealthMonitor (common/health_monitor.h).
//
// Each keeps one connection of its own between checks, so a check is one round trip (SELECT 1, PING),
// and reconnects after a failure. Every wait is bounded by the check's timeout, whatever the server
// does (down, refusing, or dropping packets behind a firewall): libpq's own connect_timeout cannot go
// below 2 s, so the PostgreSQL probe connects asynchronously. Used on the monitor's thread only.
#pragma once

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include <chrono>
#include <string>

#include "common/status.h"

namespace chatpipe {

class PgProbe {
 public:
  explicit PgProbe(std::string conninfo) : conninfo_(std::move(conninfo)) {}
  ~PgProbe() { Close(); }
  PgProbe(const PgProbe&) = delete;
  PgProbe& operator=(const PgProbe&) = delete;

  // Ok when PostgreSQL answers `sql` within `timeout` (connecting first when needed); else
  // "db_unavailable" with libpq's reason, or the time out. The first value of the answer goes to
  // *value when one is given.
  Status Check(std::chrono::milliseconds timeout, const char* sql = "SELECT 1", std::string* value = nullptr);

 private:
  using Deadline = std::chrono::steady_clock::time_point;
  Status Connect(Deadline deadline);
  Status Query(Deadline deadline, const char* sql, std::string* value);
  void Close();
  std::string conninfo_;
  PGconn* conn_ = nullptr;
};

class RedisProbe {
 public:
  RedisProbe(std::string host, int port) : host_(std::move(host)), port_(port) {}
  ~RedisProbe() { Close(); }
  RedisProbe(const RedisProbe&) = delete;
  RedisProbe& operator=(const RedisProbe&) = delete;

  // Ok when Redis answers PING within `timeout` (connecting first when needed); else
  // "redis_unavailable" with its address and the reason.
  Status Check(std::chrono::milliseconds timeout);

 private:
  Status Down(const std::string& why) const;
  void Close();
  std::string host_;
  int port_;
  redisContext* ctx_ = nullptr;
};

}  // namespace chatpipe
