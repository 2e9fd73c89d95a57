// Versioned SQL migrations: numbered files under storage/migrations/, compiled into the binary and
// applied in order by `chatpipe migrate`, each in its own transaction, recorded in schema_migrations.
// An advisory lock makes concurrent migrators (several processes starting at once) wait for each other.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "storage/pg.h"

namespace chatpipe {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

const std::vector<Migration>& Migrations();  // sorted by version
// Applies every migration not yet recorded; returns how many were applied through *applied.
Status MigrateDatabase(PgConn& conn, int* applied);

}  // namespace chatpipe
