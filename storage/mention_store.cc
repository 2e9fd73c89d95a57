#include "storage/mention_store.h"

#include <charconv>

namespace chatpipe {

Result<MentionsPage> GetMentions(PgConn& pg, int64_t user, bool unread_only, int64_t before, int limit) {
  auto rows = pg.Exec(
      "SELECT x.id, x.kind, x.read_at IS NOT NULL, x.room_id, r.name, x.message_id, "
      "       m.pos, m.user_id, m.user_name, m.body, m.ts, t.tags "
      "FROM mentions x JOIN rooms r ON r.id = x.room_id "
      "LEFT JOIN messages m ON m.id = x.message_id LEFT JOIN message_tags t ON t.message_id = x.message_id "
      "WHERE x.user_id = $1 AND (NOT $2 OR x.read_at IS NULL) AND ($3::bigint <= 0 OR x.id < $3) "
      "ORDER BY x.id DESC LIMIT $4",
      {std::to_string(user), unread_only ? "true" : "false", std::to_string(before), std::to_string(limit)});
  if (!rows.ok()) return rows.status();
  auto unread = pg.Exec("SELECT count(*) FROM mentions WHERE user_id = $1 AND read_at IS NULL", {std::to_string(user)});
  if (!unread.ok()) return unread.status();

  MentionsPage page;
  page.unread = unread->Int(0, 0);
  for (int i = 0; i < rows->rows(); ++i) {
    MentionRow row;
    row.id = rows->Int(i, 0);
    row.kind = std::string(rows->Text(i, 1));
    row.read = rows->Bool(i, 2);
    row.room = rows->Int(i, 3);
    row.room_name = std::string(rows->Text(i, 4));
    row.message_id = std::string(rows->Text(i, 5));
    if (!rows->IsNull(i, 6)) {
      StoredMessage m;
      std::from_chars(row.message_id.data(), row.message_id.data() + row.message_id.size(), m.event.id);
      m.event.room = row.room;
      m.pos = rows->Int(i, 6);
      m.event.user = {rows->Int(i, 7), std::string(rows->Text(i, 8))};
      m.event.text = std::string(rows->Text(i, 9));
      m.event.ts_ms = rows->Int(i, 10);
      if (!rows->IsNull(i, 11)) m.event.tags = std::string(rows->Text(i, 11));
      row.message = std::move(m);
    }
    page.mentions.push_back(std::move(row));
  }
  return page;
}

Status MarkMentionRead(PgConn& pg, int64_t user, int64_t mention) {
  auto r = pg.Exec("UPDATE mentions SET read_at = coalesce(read_at, now()) WHERE id = $1 AND user_id = $2 RETURNING id",
                   {std::to_string(mention), std::to_string(user)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return Status::NotFound("unknown_mention", "no mention " + std::to_string(mention) + " of yours");
  return Status::Ok();
}

}  // namespace chatpipe
