#include "storage/media_store.h"

#include <charconv>

namespace chatpipe {

Status RecordUpload(PgConn& pg, const UploadRow& u) {
  // One statement: the objects' foreign keys are checked at its end, when all three inserts are done.
  auto r = pg.Exec(
      "WITH o AS (INSERT INTO objects (sha256, type, bytes) VALUES ($1, $2, $3), ($4, $5, $6) ON CONFLICT DO NOTHING), "
      "r AS (INSERT INTO room_objects (room_id, sha256) VALUES ($7, $1), ($7, $4) ON CONFLICT DO NOTHING) "
      "INSERT INTO uploads (id, room_id, user_id, sha256, thumb_sha256, type, width, height, bytes) "
      "VALUES ($8, $7, $9, $1, $4, $2, $10, $11, $3)",
      {u.image.key, u.image.type, std::to_string(u.image.bytes), u.thumbnail.key, u.thumbnail.type,
       std::to_string(u.thumbnail.bytes), std::to_string(u.room), std::to_string(u.id), std::to_string(u.user),
       std::to_string(u.width), std::to_string(u.height)});
  return r.ok() ? Status::Ok() : r.status();
}

Result<UploadRow> FindUpload(PgConn& pg, uint64_t id) {
  auto r = pg.Exec(
      "SELECT u.room_id, u.user_id, u.sha256, u.type, u.bytes, u.thumb_sha256, t.type, t.bytes, u.width, u.height "
      "FROM uploads u JOIN objects t ON t.sha256 = u.thumb_sha256 WHERE u.id = $1",
      {std::to_string(id)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return Status::NotFound("upload_not_found", "no such upload");
  UploadRow u;
  u.id = id;
  u.room = r->Int(0, 0);
  u.user = r->Int(0, 1);
  u.image = {std::string(r->Text(0, 2)), std::string(r->Text(0, 3)), r->Int(0, 4)};
  u.thumbnail = {std::string(r->Text(0, 5)), std::string(r->Text(0, 6)), r->Int(0, 7)};
  u.width = static_cast<int>(r->Int(0, 8));
  u.height = static_cast<int>(r->Int(0, 9));
  return u;
}

Result<std::optional<StoredObject>> FindRoomObject(PgConn& pg, int64_t room, const std::string& key) {
  auto r = pg.Exec(
      "SELECT o.type, o.bytes FROM room_objects ro JOIN objects o USING (sha256) "
      "WHERE ro.room_id = $1 AND ro.sha256 = $2",
      {std::to_string(room), key});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<StoredObject>();
  return std::optional<StoredObject>(StoredObject{key, std::string(r->Text(0, 0)), r->Int(0, 1)});
}

Result<SpeechTarget> FindSpeechTarget(PgConn& pg, uint64_t message) {
  auto r = pg.Exec(
      "SELECT m.room_id, s.sha256, o.type, o.bytes, s.duration_ms, octet_length(btrim(m.body, E' \\t\\r\\n')) "
      "FROM messages m "
      "LEFT JOIN speech s ON s.message_id = m.id LEFT JOIN objects o ON o.sha256 = s.sha256 WHERE m.id = $1",
      {std::to_string(message)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return Status::NotFound("message_not_found", "no such message");
  SpeechTarget t;
  t.room = r->Int(0, 0);
  t.text_bytes = r->Int(0, 5);
  if (!r->IsNull(0, 1)) {
    t.audio = StoredObject{std::string(r->Text(0, 1)), std::string(r->Text(0, 2)), r->Int(0, 3)};
    t.duration_ms = r->Int(0, 4);
  }
  return t;
}

}  // namespace chatpipe
