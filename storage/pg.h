// PgConn: one blocking PostgreSQL connection (libpq), reconnected on demand.
//
// A connection the server ended while it sat idle (a restart, pg_terminate_backend) is noticed before
// the next statement is sent, by the termination message or end-of-file waiting on its socket, and
// replaced then: nothing was sent, so this is safe for every statement, and no caller sees an error
// for it. Not inside a transaction (the rest of it would run on its own on the new connection): there
// the statement fails as below. A statement whose connection breaks while it runs is not retried
// either: it may have been applied, and only the caller knows whether running it again is harmless.
//
// Blocking on purpose: it is used by worker loops and by the store threads that serve ingress, never on
// an event loop. Owned by one thread at a time. Errors come back as Status: kUnavailable
// "db_unavailable" when the server cannot be reached (the caller may retry later), else
// Status::Postgres with the SQLSTATE (a unique violation is kAlreadyExists).
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace chatpipe {

class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* r) : r_(r, PQclear) {}
  int rows() const { return PQntuples(r_.get()); }
  int columns() const { return PQnfields(r_.get()); }
  bool IsNull(int row, int col) const { return PQgetisnull(r_.get(), row, col); }
  std::string_view Text(int row, int col) const {
    return std::string_view(PQgetvalue(r_.get(), row, col), PQgetlength(r_.get(), row, col));
  }
  int64_t Int(int row, int col) const { return std::strtoll(PQgetvalue(r_.get(), row, col), nullptr, 10); }
  bool Bool(int row, int col) const { return PQgetvalue(r_.get(), row, col)[0] == 't'; }

 private:
  std::shared_ptr<PGresult> r_;
};

using PgParam = std::optional<std::string>;  // nullopt is SQL NULL

class PgConn {
 public:
  explicit PgConn(std::string conninfo) : conninfo_(std::move(conninfo)) {}
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  Status Connect();  // no-op when already connected and healthy
  Result<PgResult> Exec(const char* sql, const std::vector<PgParam>& params = {});
  // COPY ... FROM STDIN (`sql`) of `data`, in the format `sql` names, in one statement: all rows or
  // none. Errors as Exec's (a duplicate key is kAlreadyExists).
  Status CopyIn(const char* sql, std::string_view data);
  // Runs `sql` statements (no parameters) in one round trip; for migrations and transaction control.
  Status ExecScript(const std::string& sql);
  void Close();

 private:
  Status CheckResult(PGresult* r, Result<PgResult>* out);
  // True when the server has sent something to this idle connection: its end.
  bool LostWhileIdle() const;
  std::string conninfo_;
  PGconn* conn_ = nullptr;
};

}  // namespace chatpipe
