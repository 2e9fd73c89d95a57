#include "common/status.h"

#include <algorithm>
#include <cstring>

namespace chatpipe {

// SQLSTATE classes (PostgreSQL appendix A): 22 data exception, 23 integrity constraint violation,
// 40 transaction rollback (deadlock, serialization failure: the same statement may pass next time).
Status Status::Postgres(std::string_view sqlstate, std::string detail) {
  StatusCode code = StatusCode::kInternal;
  if (sqlstate.substr(0, 2) == "40") code = StatusCode::kUnavailable;
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
