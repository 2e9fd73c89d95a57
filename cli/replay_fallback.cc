#include "cli/replay_fallback.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/events.h"
#include "storage/chat_store.h"

namespace chatpipe {
namespace {

constexpr int kPage = 5000;

// MessageFromRow's columns (the tags, the image), then the tags' version. jsonb keeps its keys in an
// order of its own, so the tags are rebuilt as json in the tagger's order (TagsToJson);
// json_strip_nulls drops the "masked" that only some tags have, and the levels of tags from before them. The image is json: kept as written.
constexpr const char* kPartSql =
    "SELECT m.id, m.room_id, m.pos, m.user_id, m.user_name, m.body, m.ts, m.client_msg_id, "
    "       CASE WHEN t.tags IS NOT NULL THEN "
    "         json_strip_nulls(json_build_object('lang', t.tags->'lang', 'sentiment', t.tags->'sentiment', "
    "           'profanity', json_build_object('flagged', t.tags->'profanity'->'flagged', "
    "             'level', t.tags->'profanity'->'level', 'terms', t.tags->'profanity'->'terms', "
    "             'levels', t.tags->'profanity'->'levels', 'masked', t.tags->'profanity'->'masked')))::text END, "
    "       i.image, t.tagger_version "
    "FROM messages m LEFT JOIN message_tags t ON t.message_id = m.id "
    "LEFT JOIN message_images i ON i.message_id = m.id "
    "WHERE m.ts >= $1 AND m.ts < $2 AND (m.room_id, m.pos) > ($3, $4) "
    "ORDER BY m.room_id, m.pos LIMIT $5";

// json_build_object writes spaces around its separators; the event had none.
std::string Compact(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) return json;
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  doc.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

Result<int64_t> ReplayFromDb(PgConn& pg, const DbFallback& part,
                             const std::function<void(int64_t, std::string_view)>& sink,
                             const std::atomic<bool>& stop) {
  int64_t sunk = 0;
  int64_t after_room = -1, after_pos = 0;  // keyset: the last row read
  while (!stop.load(std::memory_order_relaxed)) {
    auto r = pg.Exec(kPartSql, {std::to_string(part.from_ms), std::to_string(part.to_ms), std::to_string(after_room),
                                std::to_string(after_pos), std::to_string(kPage)});
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->rows(); ++i) {
      StoredMessage m = MessageFromRow(*r, i);
      after_room = m.event.room;
      after_pos = m.pos;
      auto cut = part.cuts.find(part.partition_of(m.event.room));
      if (cut == part.cuts.end() || (cut->second && m.event.id >= *cut->second)) continue;
      if (!m.event.tags.empty()) m.event.tags = Compact(m.event.tags);
      if (!m.event.tags.empty() && !r->IsNull(i, 10)) m.event.tagger_version = std::string(r->Text(i, 10));
      sink(m.event.room, EncodeChatEvent(m.event));
      ++sunk;
    }
    if (r->rows() < kPage) break;
  }
  return sunk;
}

}  // namespace chatpipe
