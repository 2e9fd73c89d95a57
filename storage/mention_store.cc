#include "storage/mention_store.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>

#include "common/events.h"

namespace chatpipe {

Result<std::string> MentionsJson(PgConn& pg, int64_t user, bool unread_only, int64_t before, int limit) {
  auto rows = pg.Exec(
      "SELECT x.id, x.kind, x.read_at IS NOT NULL, x.room_id, r.name, x.message_id, "
      "       m.pos, m.user_id, m.user_name, m.body, m.ts, t.tags "
      "FROM mentions x JOIN rooms r ON r.id = x.room_id "
      "LEFT JOIN messages m ON m.id = x.message_id LEFT JOIN message_tags t ON t.message_id = x.message_id "
      "WHERE x.user_id = $1 AND (NOT $2 OR x.read_at IS NULL) AND ($3 <= 0 OR x.id < $3) "
      "ORDER BY x.id DESC LIMIT $4",
      {std::to_string(user), unread_only ? "true" : "false", std::to_string(before), std::to_string(limit)});
  if (!rows.ok()) return rows.status();
  auto unread = pg.Exec("SELECT count(*) FROM mentions WHERE user_id = $1 AND read_at IS NULL", {std::to_string(user)});
  if (!unread.ok()) return unread.status();

  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("mentions");
  w.StartArray();
  for (int i = 0; i < rows->rows(); ++i) {
    w.StartObject();
    w.Key("id");
    w.Int64(rows->Int(i, 0));
    w.Key("kind");
    auto kind = rows->Text(i, 1);
    w.String(kind.data(), kind.size());
    w.Key("read");
    w.Bool(rows->Bool(i, 2));
    w.Key("room");
    w.StartObject();
    w.Key("id");
    w.Int64(rows->Int(i, 3));
    w.Key("name");
    auto room_name = rows->Text(i, 4);
    w.String(room_name.data(), room_name.size());
    w.EndObject();
    w.Key("message");
    auto message_id = rows->Text(i, 5);
    if (rows->IsNull(i, 6)) {
      w.StartObject();
      w.Key("id");
      w.String(message_id.data(), message_id.size());
      w.EndObject();
    } else {
      StoredMessage m;
      std::from_chars(message_id.data(), message_id.data() + message_id.size(), m.event.id);
      m.event.room = rows->Int(i, 3);
      m.pos = rows->Int(i, 6);
      m.event.user = {rows->Int(i, 7), std::string(rows->Text(i, 8))};
      m.event.text = std::string(rows->Text(i, 9));
      m.event.ts_ms = rows->Int(i, 10);
      if (!rows->IsNull(i, 11)) m.event.tags = std::string(rows->Text(i, 11));
      std::string frame = EncodeMessageFrame(m);
      w.RawValue(frame.data(), frame.size(), rapidjson::kObjectType);
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("unread");
  w.Int64(unread->Int(0, 0));
  w.Key("next_before");
  if (rows->rows() == limit) w.Int64(rows->Int(rows->rows() - 1, 0));
  else w.Null();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Status MarkMentionRead(PgConn& pg, int64_t user, int64_t mention) {
  auto r = pg.Exec("UPDATE mentions SET read_at = coalesce(read_at, now()) WHERE id = $1 AND user_id = $2 RETURNING id",
                   {std::to_string(mention), std::to_string(user)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return Status::NotFound("unknown_mention", "no mention " + std::to_string(mention) + " of yours");
  return Status::Ok();
}

}  // namespace chatpipe
