#include "cli/replay_fallback.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "common/events.h"
#include "common/message_id.h"
#include "storage/chat_store.h"

namespace chatpipe {
namespace {

constexpr int kPage = 5000;

// The part's messages in (room, position) order, read through a cursor a page at a time: MessageFromRow's
// columns (the tags, the image), then the tags' version. Ids are time-ordered (common/message_id.h), so
// the range is a range of the primary key, a margin wider than the times ($1, $2; ts decides exactly):
// PostgreSQL reads and sorts the range once, not the table per page. jsonb keeps its keys in an order
// of its own, so the tags are rebuilt as json in the tagger's order (TagsToJson); json_strip_nulls drops
// the "masked" that only some tags have, and the levels of tags from before them. The image is json:
// kept as written.
constexpr const char* kCursorSql =
    "DECLARE replay_part NO SCROLL CURSOR FOR "
    "SELECT m.id, m.room_id, m.pos, m.user_id, m.user_name, m.body, m.ts, m.client_msg_id, "
    "       CASE WHEN t.tags IS NOT NULL THEN "
    "         json_strip_nulls(json_build_object('lang', t.tags->'lang', 'sentiment', t.tags->'sentiment', "
    "           'profanity', json_build_object('flagged', t.tags->'profanity'->'flagged', "
    "             'level', t.tags->'profanity'->'level', 'terms', t.tags->'profanity'->'terms', "
    "             'levels', t.tags->'profanity'->'levels', 'masked', t.tags->'profanity'->'masked')))::text END, "
    "       i.image, t.tagger_version "
    "FROM messages m LEFT JOIN message_tags t ON t.message_id = m.id "
    "LEFT JOIN message_images i ON i.message_id = m.id "
    "WHERE m.id >= $1 AND m.id < $2 AND m.ts >= $3 AND m.ts < $4 "
    "  AND (cardinality($5::bigint[]) = 0 OR m.room_id = ANY($5::bigint[])) "
    "ORDER BY m.room_id, m.pos";

// The smallest id of a message stamped at `ms`, `margin_ms` earlier or later (clamped to the epoch).
int64_t IdBound(int64_t ms, int64_t margin_ms) {
  constexpr int kShift = MessageIdGenerator::kInstanceBits + MessageIdGenerator::kSequenceBits;
  constexpr int64_t kMaxMs = (int64_t{1} << (63 - kShift)) - 1;  // the largest a bigint id can hold
  const int64_t since = std::clamp<int64_t>(ms + margin_ms - static_cast<int64_t>(MessageIdGenerator::kEpochMs), 0, kMaxMs);
  return since << kShift;
}

std::string ArrayText(const std::vector<int64_t>& ids) {
  std::string out = "{";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out + "}";
}

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
  constexpr int64_t kMarginMs = 60000;  // ids and ts come from one clock read; a minute is room to spare
  // A cursor lives in its transaction; read-only, it is rolled back whatever happens.
  if (auto begin = pg.Exec("BEGIN READ ONLY"); !begin.ok()) return begin.status();
  struct Rollback {
    PgConn& pg;
    ~Rollback() { (void)pg.Exec("ROLLBACK"); }
  } rollback{pg};
  auto declared = pg.Exec(kCursorSql, {std::to_string(IdBound(part.from_ms, -kMarginMs)),
                                       std::to_string(IdBound(part.to_ms, kMarginMs)), std::to_string(part.from_ms),
                                       std::to_string(part.to_ms), ArrayText(part.rooms)});
  if (!declared.ok()) return declared.status();
  const std::string fetch = "FETCH " + std::to_string(kPage) + " FROM replay_part";
  int64_t sunk = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    auto r = pg.Exec(fetch.c_str());
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->rows(); ++i) {
      StoredMessage m = MessageFromRow(*r, i);
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
