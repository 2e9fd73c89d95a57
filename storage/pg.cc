#include "storage/pg.h"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "common/redact.h"

namespace chatpipe {

PgConn::~PgConn() { Close(); }

void PgConn::Close() {
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
}

namespace {

// Why a connection failed, with no part of the password: libpq quotes what it cannot read of a conninfo,
// and a conninfo it cannot parse at all is not quoted, as where its password lies is then unknown.
std::string ConnectError(PGconn* conn, const std::string& conninfo) {
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (!options) {
    PQfreemem(parse_error);
    return "the conninfo (--pg, CHATPIPE_PG) cannot be parsed";
  }
  std::string password;
  for (PQconninfoOption* o = options; o->keyword; ++o)
    if (std::strcmp(o->keyword, "password") == 0 && o->val) password = o->val;
  PQconninfoFree(options);
  return RedactSecret(PQerrorMessage(conn), password);
}

// SQLSTATEs that mean the session is over: connection exceptions (class 08) and the server shutting
// it down (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now).
bool EndsTheSession(const char* state) {
  return std::strncmp(state, "08", 2) == 0 || std::strncmp(state, "57P0", 4) == 0;
}

}  // namespace

bool PgConn::LostWhileIdle() const {
  // Inside a transaction the caller must see the failure: a fresh connection would run the rest of
  // the transaction's statements on their own.
  if (PQtransactionStatus(conn_) != PQTRANS_IDLE) return false;
  pollfd p{PQsocket(conn_), POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;
}

Status PgConn::Connect() {
  if (conn_ && PQstatus(conn_) == CONNECTION_OK) {
    if (!LostWhileIdle()) return Status::Ok();
    spdlog::warn("PostgreSQL closed an idle connection (restarted, or the session was terminated); reconnecting");
  }
  Close();
  // Bounds for a server that stops answering (a network partition, a hung host): connecting gives up
  // after 10 s, and a statement waiting on a dead peer ends within a minute (keepalives), rather than
  // hold a worker or a pool thread for good. Ours come first, so the conninfo (--pg) overrides them.
  static const char* const kKeywords[] = {"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
                                          "keepalives_count", "dbname", nullptr};
  const char* const values[] = {"10", "1", "30", "10", "3", conninfo_.c_str(), nullptr};
  conn_ = PQconnectdbParams(kKeywords, values, /*expand_dbname=*/1);
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string why = ConnectError(conn_, conninfo_);
    Close();
    return Status::Unavailable("db_unavailable", "PostgreSQL: " + why);
  }
  return Status::Ok();
}

Status PgConn::CopyIn(const char* sql, std::string_view data) {
  if (Status s = Connect(); !s.ok()) return s;
  Result<PgResult> out{Status::Ok()};
  PGresult* r = PQexec(conn_, sql);
  if (!r || PQresultStatus(r) != PGRES_COPY_IN) {
    if (Status s = CheckResult(r, &out); !s.ok()) return s;
    return Status::Internal("not a COPY FROM STDIN: " + std::string(sql));
  }
  PQclear(r);
  if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) != 1 || PQputCopyEnd(conn_, nullptr) != 1) {
    const std::string why = PQerrorMessage(conn_);
    Close();
    return Status::Unavailable("db_unavailable", "PostgreSQL: " + why);
  }
  r = PQgetResult(conn_);
  // The connection is ready for the next statement only once every result is read.
  while (PGresult* rest = PQgetResult(conn_)) PQclear(rest);
  return CheckResult(r, &out);
}

Status PgConn::CheckResult(PGresult* r, Result<PgResult>* out) {
  auto st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    *out = PgResult(r);
    return Status::Ok();
  }
  // Copied before PQclear frees the result the field points into.
  const char* field = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const std::string state = field ? field : "";
  std::string why = r ? PQresultErrorMessage(r) : PQerrorMessage(conn_);
  if (r) PQclear(r);
  if (state.empty() || PQstatus(conn_) != CONNECTION_OK || EndsTheSession(state.c_str())) {
    Close();  // the connection is gone; the next call reconnects
    return Status::Unavailable("db_unavailable", "PostgreSQL: " + why);
  }
  return Status::Postgres(state, why);
}

Result<PgResult> PgConn::Exec(const char* sql, const std::vector<PgParam>& params) {
  if (Status s = Connect(); !s.ok()) return s;
  std::vector<const char*> values(params.size());
  for (size_t i = 0; i < params.size(); ++i) values[i] = params[i] ? params[i]->c_str() : nullptr;
  PGresult* r = PQexecParams(conn_, sql, static_cast<int>(params.size()), nullptr, values.data(), nullptr,
                             nullptr, 0);
  Result<PgResult> out{Status::Ok()};
  if (Status s = CheckResult(r, &out); !s.ok()) return s;
  return out;
}

Status PgConn::ExecScript(const std::string& sql) {
  if (Status s = Connect(); !s.ok()) return s;
  Result<PgResult> out{Status::Ok()};
  return CheckResult(PQexec(conn_, sql.c_str()), &out);
}

}  // namespace chatpipe
