#include "common/status.h"

#include <algorithm>
#include <cstring>

namespace chatpipe {

namespace {

// Whether a statement that failed with `sqlstate` may pass unchanged later: the server's state, not
// the statement's data, refused it. A worker retries these and dead-letters the rest, so an error that
// is no event's fault must be here, or a disk-full or failover would divert every acknowledged message.
// PostgreSQL appendix A: 40 transaction rollback (deadlock, serialization), 53 insufficient resources
// (disk full, out of memory, too many connections), 55 object not in prerequisite state (a lock
// timeout), 57 operator intervention (a cancelled query, a shutdown), 58 system error (I/O), 25006 a
// read-only transaction (a standby after a failover), 42P01 / 42883 an undefined table or function (a
// schema not yet migrated while a deploy runs).
bool ServerStateRefused(std::string_view sqlstate) {
  const std::string_view cls = sqlstate.substr(0, 2);
  return cls == "40" || cls == "53" || cls == "55" || cls == "57" || cls == "58" || sqlstate == "25006" ||
         sqlstate == "42P01" || sqlstate == "42883";
}

}  // namespace

// The event's own faults are 22 data exception and 23 integrity constraint violation.
Status Status::Postgres(std::string_view sqlstate, std::string detail) {
  StatusCode code = StatusCode::kInternal;
  if (ServerStateRefused(sqlstate)) code = StatusCode::kUnavailable;
  else if (sqlstate == "23505") code = StatusCode::kAlreadyExists;
  else if (sqlstate.substr(0, 2) == "22" || sqlstate.substr(0, 2) == "23") code = StatusCode::kInvalidArgument;
  Status s(code, "db_error", std::move(detail));
  std::memcpy(s.sqlstate_, sqlstate.data(), std::min<size_t>(sqlstate.size(), 5));
  return s;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out = name_ + ": ";
  if (sqlstate_[0]) out.append(sqlstate_).append(" ");
  return out + detail_;
}

bool IsRetriable(const Status& s) { return s.code() == StatusCode::kUnavailable; }

}  // namespace chatpipe
