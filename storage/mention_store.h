// MentionStore: the SQL behind a user's mentions inbox (the rows the mention worker writes).
//
// Blocking functions over a PgConn, run on DbPool threads. The inbox JSON is built here, in one
// query with the room's name and the message (once the persister has stored it).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "storage/pg.h"

namespace chatpipe {

// {"mentions":[{"id","kind","read","room":{"id","name"},"message":{message frame, or {"id"} if not yet
// stored}}...], "unread":N, "next_before":ID|null}: newest first, mention id < before (0: newest).
Result<std::string> MentionsJson(PgConn& pg, int64_t user, bool unread_only, int64_t before, int limit);

// Marks one of the user's mentions read (again is fine). 404 if it is not theirs or does not exist.
Status MarkMentionRead(PgConn& pg, int64_t user, int64_t mention);

}  // namespace chatpipe
