// The PostgreSQL side of media (011_media.sql): which objects exist, in which rooms they may be read,
// the images users uploaded and the speech made for messages. The bytes themselves are in the
// ObjectStore (storage/object_store.h); a row here is written only once they are durable there.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "storage/pg.h"

namespace chatpipe {

struct StoredObject {
  std::string key;   // SHA-256 of the bytes, hex
  std::string type;  // Content-Type
  int64_t bytes = 0;
};

struct UploadRow {
  uint64_t id = 0;
  int64_t room = 0;
  int64_t user = 0;
  StoredObject image;
  StoredObject thumbnail;
  int width = 0;
  int height = 0;
};

// Records both objects, their use in the room and the upload, in one statement. An object already
// recorded (the same bytes uploaded before) is kept.
Status RecordUpload(PgConn& pg, const UploadRow& upload);
// NotFound "upload_not_found" when there is no such upload.
Result<UploadRow> FindUpload(PgConn& pg, uint64_t id);
// The object `key` as used in `room`, or nothing when it is not used there (whatever other rooms use).
Result<std::optional<StoredObject>> FindRoomObject(PgConn& pg, int64_t room, const std::string& key);

struct SpeechTarget {
  int64_t room = 0;
  std::optional<StoredObject> audio;  // once made
  int64_t duration_ms = 0;            // of the audio
  int64_t text_bytes = 0;             // of the message's text, blanks around it left out (0: an image alone)
};
// The room of message `id`, its text's size and its speech if made; NotFound "message_not_found".
Result<SpeechTarget> FindSpeechTarget(PgConn& pg, uint64_t message);

}  // namespace chatpipe
