#include "storage/probes.h"

#include <poll.h>

#include <algorithm>

namespace chatpipe {
namespace {

using Clock = std::chrono::steady_clock;

int MsLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::max<int64_t>(left, 0));
}

// Waits until `fd` has `events` (or an error, for the caller to read) before the deadline.
bool WaitFor(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  int n;
  while ((n = ::poll(&p, 1, MsLeft(deadline))) < 0 && errno == EINTR) {
  }
  return n > 0;
}

// libpq's messages span lines, indented with tabs: one line, for a JSON state.
std::string OneLine(const char* message) {
  std::string s;
  for (const char* p = message ? message : ""; *p; ++p) {
    const bool space = *p == '\n' || *p == '\t' || *p == ' ';
    if (!space) s += *p;
    else if (!s.empty() && s.back() != ' ') s += ' ';
  }
  if (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

Status PgDown(const std::string& why) { return Status::Unavailable("db_unavailable", "PostgreSQL: " + why); }

}  // namespace

Status PgProbe::Check(std::chrono::milliseconds timeout, const char* sql, std::string* value) {
  const Deadline deadline = Clock::now() + timeout;
  if (conn_ && PQstatus(conn_) != CONNECTION_OK) Close();
  const bool reused = conn_ != nullptr;
  Status s = reused ? Query(deadline, sql, value) : Status::Ok();
  // A kept connection the server ended since the last check (a restart) says nothing of now: once
  // more on a new one.
  if (!reused || (!s.ok() && Clock::now() < deadline)) {
    Close();
    s = Connect(deadline);
    if (s.ok()) s = Query(deadline, sql, value);
  }
  if (!s.ok()) Close();  // a query cut short leaves the connection in an unknown state
  return s;
}

Status PgProbe::Connect(Deadline deadline) {
  conn_ = PQconnectStart(conninfo_.c_str());
  if (!conn_) return PgDown("out of memory");
  if (PQstatus(conn_) == CONNECTION_BAD) return PgDown(OneLine(PQerrorMessage(conn_)));
  // libpq's protocol: start as if PQconnectPoll had asked to write, then wait for what it asks.
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;
  while (st != PGRES_POLLING_OK) {
    if (st == PGRES_POLLING_FAILED) return PgDown(OneLine(PQerrorMessage(conn_)));
    if (!WaitFor(PQsocket(conn_), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline))
      return PgDown("no connection within the check's time");
    st = PQconnectPoll(conn_);
  }
  if (PQsetnonblocking(conn_, 1) != 0) return PgDown(OneLine(PQerrorMessage(conn_)));
  return Status::Ok();
}

Status PgProbe::Query(Deadline deadline, const char* sql, std::string* value) {
  if (!PQsendQuery(conn_, sql)) return PgDown(OneLine(PQerrorMessage(conn_)));
  for (int r; (r = PQflush(conn_)) != 0;) {
    if (r < 0 || !WaitFor(PQsocket(conn_), POLLOUT, deadline)) return PgDown("no answer within the check's time");
  }
  while (PQisBusy(conn_)) {
    if (!WaitFor(PQsocket(conn_), POLLIN, deadline)) return PgDown("no answer within the check's time");
    if (!PQconsumeInput(conn_)) return PgDown(OneLine(PQerrorMessage(conn_)));
  }
  Status s = PgDown("no result");
  while (PGresult* r = PQgetResult(conn_)) {
    s = PQresultStatus(r) == PGRES_TUPLES_OK ? Status::Ok() : PgDown(OneLine(PQresultErrorMessage(r)));
    if (s.ok() && value && PQntuples(r) > 0 && PQnfields(r) > 0) value->assign(PQgetvalue(r, 0, 0));
    PQclear(r);
  }
  return s;
}

void PgProbe::Close() {
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
}

Status RedisProbe::Check(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  auto tv = [&] {
    int ms = std::max(MsLeft(deadline), 1);
    return timeval{ms / 1000, (ms % 1000) * 1000};
  };
  if (!ctx_) {
    ctx_ = redisConnectWithTimeout(host_.c_str(), port_, tv());
    if (!ctx_ || ctx_->err) {
      std::string why = ctx_ ? ctx_->errstr : "out of memory";
      Close();
      return Down(why);
    }
  }
  redisSetTimeout(ctx_, tv());
  auto* reply = static_cast<redisReply*>(redisCommand(ctx_, "PING"));
  Status s = Status::Ok();
  if (!reply)
    s = Down(ctx_->err ? ctx_->errstr : "no answer");
  else if (reply->type == REDIS_REPLY_ERROR)  // LOADING, a replica refusing, a wrong password
    s = Down(std::string(reply->str, reply->len));
  if (reply) freeReplyObject(reply);
  if (!s.ok()) Close();
  return s;
}

Status RedisProbe::Down(const std::string& why) const {
  return Status::Unavailable("redis_unavailable", "Redis " + host_ + ":" + std::to_string(port_) + ": " + why);
}

void RedisProbe::Close() {
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
}

}  // namespace chatpipe
