#include "storage/migrate.h"

#include <spdlog/spdlog.h>

#include <set>

namespace chatpipe {

Status MigrateDatabase(PgConn& conn, int* applied) {
  *applied = 0;
  if (Status s = conn.ExecScript(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, name text NOT NULL, "
          "applied_at timestamptz NOT NULL DEFAULT now())");
      !s.ok() && s.code() != StatusCode::kAlreadyExists)  // two migrators racing to create the table
    return s;
  if (Status s = conn.ExecScript("BEGIN; SELECT pg_advisory_xact_lock(4242001)"); !s.ok()) return s;
  auto done = conn.Exec("SELECT version FROM schema_migrations");
  if (!done.ok()) {
    conn.ExecScript("ROLLBACK");
    return done.status();
  }
  std::set<int> have;
  for (int i = 0; i < done->rows(); ++i) have.insert(static_cast<int>(done->Int(i, 0)));
  for (const Migration& m : Migrations()) {
    if (have.count(m.version)) continue;
    spdlog::info("migrate: applying {:03d}_{}", m.version, m.name);
    Status s = conn.ExecScript(m.sql);
    if (s.ok())
      s = conn.Exec("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    {std::to_string(m.version), m.name}).status();
    if (!s.ok()) {
      conn.ExecScript("ROLLBACK");
      return Status::Internal("migration " + std::to_string(m.version) + " failed: " + s.detail());
    }
    ++*applied;
  }
  return conn.ExecScript("COMMIT");
}

}  // namespace chatpipe
