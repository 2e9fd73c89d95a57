#include "workers/consume/retriable.h"

namespace chatpipe {

bool Retriable(const Status& s) {
  const std::string& code = s.code();
  if (code == "db_unavailable" || code == "redis_unavailable" || code == "queue_unavailable") return true;
  // PgConn puts a db_error's SQLSTATE at the front of its reason (storage/pg.h).
  return code == "db_error" && s.reason().rfind("40", 0) == 0;
}

}  // namespace chatpipe
