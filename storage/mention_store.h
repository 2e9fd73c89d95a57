// MentionStore: the SQL behind a user's mentions inbox (the rows the mention worker writes).
//
// Blocking functions over a PgConn, run on DbPool threads. The inbox is read in one query with each
// mention's room name and its message (once the persister has stored it); ingress writes the JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/events.h"
#include "common/status.h"
#include "storage/pg.h"

namespace chatpipe {

struct MentionRow {
  int64_t id = 0;
  std::string kind;  // user, room, here (docs/protocol.md)
  bool read = false;
  int64_t room = 0;
  std::string room_name;
  std::string message_id;                // decimal
  std::optional<StoredMessage> message;  // empty until the persister has stored it
};

struct MentionsPage {
  std::vector<MentionRow> mentions;  // newest first
  int64_t unread = 0;                // every unread mention of the user, not only these
};

// Newest first: up to `limit` of the user's mentions with id < before (before <= 0: the newest),
// only the unread ones if `unread_only`.
Result<MentionsPage> GetMentions(PgConn& pg, int64_t user, bool unread_only, int64_t before, int limit);

// Marks one of the user's mentions read (again is fine). 404 if it is not theirs or does not exist.
Status MarkMentionRead(PgConn& pg, int64_t user, int64_t mention);

}  // namespace chatpipe
