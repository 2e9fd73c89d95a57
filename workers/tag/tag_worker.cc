#include "workers/tag/tag_worker.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/json_writer.h"
#include "common/metrics.h"
#include "storage/redis_keys.h"

namespace chatpipe {
namespace {

Metric& tagged = Counter("chatpipe_tag_tagged_total", "messages tagged by the worker (not inline by ingress)");
Metric& replaced = Counter("chatpipe_tag_replaced_total", "stored tags replaced by those of a later tagger version");
Metric& changed = Counter("chatpipe_tag_changed_total",
                          "stored tags replaced by a later tagger version's that differ (re-tagging changed them)");
Metric& kept_later = Counter("chatpipe_tag_kept_later_total",
                             "tags not stored because the row holds a later tagger version's (an older worker)");
Metric& unplaced_frames =
    Counter("chatpipe_tag_unplaced_total", "tags frames published without finding the message in the room history");

// Places a message's tags in the room's history and publishes the tags frame, once the persister has
// pushed the message (tags an older version put there are replaced). KEYS[1] = history list; ARGV[1] = message id; ARGV[2] = its pos; ARGV[3] = tags
// JSON; ARGV[4] = room channel; ARGV[5] = tags frame. Returns 1 when the entry was found (patched unless
// it had these tags already), 0 when the message is older than the list keeps, -1 when the persister has not
// pushed it yet (nothing published). Entries start with a frame head, read with FrameHeadLuaPattern()
// (common/events.h); the patch only touches the end (the tags, always the last member), so the head
// stays as it is. Inside JSON strings every '"' is escaped, so ,"tags":{ can only be the key itself.
const std::string& PlaceTagsScript() {
  static const std::string script = R"lua(
local items = redis.call('LRANGE', KEYS[1], 0, -1)
local head_pos = nil
for i, item in ipairs(items) do
  local pos, id = string.match(item, ')lua" + FrameHeadLuaPattern() + R"lua(')
  if i == 1 then head_pos = tonumber(pos) end
  if id == ARGV[1] then
    local at = string.find(item, ',"tags":{', 1, true)
    local patched = string.sub(item, 1, (at or string.len(item)) - 1) .. ',"tags":' .. ARGV[3] .. '}'
    if patched ~= item then redis.call('LSET', KEYS[1], i - 1, patched) end
    redis.call('PUBLISH', ARGV[4], ARGV[5])
    return 1
  end
end
if head_pos == nil or head_pos < tonumber(ARGV[2]) then return -1 end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 0
)lua";
  return script;
}

Status RedisError(const RedisReply& r) { return Status::Unavailable("redis_unavailable", "Redis: " + r.str); }

// A mask room's message: ingress replaced its text with the masked form, so the original is gone and
// only the tags made then can describe it.
bool MaskedAtIntake(const ChatEvent& e) { return FlaggedMaskedText(e.tags) == e.text; }

}  // namespace

struct TagWorker::Item {
  const ChatEvent* event = nullptr;
  std::string tags;
  std::string version;     // of the tagger that made `tags`; empty: unknown (stored as NULL)
  bool own = false;        // tagged here, not inline by ingress
  bool shown = false;      // these tags differ from those the message frame carried: clients get a tags frame
  int64_t pos = 0;         // > 0 once the persister has stored the message
  bool duplicate = false;  // a client's retry, stored under another message's id
  bool current = true;     // the stored row holds these tags (false: a later version's)
};

std::string EncodeTagsFrame(int64_t room, uint64_t id, const std::string& tags) {
  return "{\"type\":\"tags\",\"room\":" + std::to_string(room) + ",\"id\":\"" + std::to_string(id) +
         "\",\"tags\":" + tags + "}";
}

TagWorker::TagWorker(CommonConfig config, const Tagger& tagger, TagWorkerOptions options)
    : config_(std::move(config)),
      tagger_(tagger),
      options_(std::move(options)),
      pg_(config_.pg_conninfo),
      redis_(config_.RedisShards()),
      loop_(config_, {.worker = "tag",
             .group = options_.group,
             .topics = {kMessagesTopic},
             .batch_max = options_.batch,
             .range = options_.range,
             .gather = std::chrono::milliseconds(options_.gather_ms)},
            DecodeChatMessage, [this](const std::vector<ChatEvent>& events) { return Apply(events); }) {}

Status TagWorker::Start() {
  // Registered before any tag of this version is stored: tagger_versions orders versions by first use.
  auto r = pg_.Exec("INSERT INTO tagger_versions (version) VALUES ($1) ON CONFLICT (version) DO NOTHING",
                    {tagger_.version()});
  if (!r.ok()) return r.status();
  return loop_.Start();
}

void TagWorker::Run(const std::atomic<bool>& stop) {
  stop_ = &stop;
  loop_.Run(stop);
  if (loop_.RangeDone())
    spdlog::info("tag: re-tagging done with version {}: {} new row(s), {} replaced ({} with other tags), {} kept "
                 "(a later version's)",
                 tagger_.version(), counts_.inserted, counts_.replaced, counts_.changed, counts_.kept_later);
}

Status TagWorker::Apply(const std::vector<ChatEvent>& events) {
  std::vector<Item> items;
  std::unordered_set<uint64_t> seen;
  std::set<std::pair<int64_t, std::string_view>> client_ids;
  for (const auto& e : events) {
    if (!seen.insert(e.id).second) continue;
    // A client's retry in the same batch as its first attempt: the first one's tags are the message's.
    if (!e.client_msg_id.empty() && !client_ids.insert({e.user.id, e.client_msg_id}).second) continue;
    Item item;
    item.event = &e;
    // Ingress tags every message; its tags stand when this worker's tagger is the same, or when the
    // text was masked at intake. Otherwise (re-tagging with other word lists, or an event from before
    // inline tags) the text is tagged again.
    const bool keep = !e.tags.empty() && (e.tagger_version == tagger_.version() || MaskedAtIntake(e));
    item.own = !keep;
    TagOptions options;  // as ingress tags a room that masks no mild word (a room that does masked them at intake)
    options.mask_mild = false;
    options.names = {e.user.name};
    item.tags = keep ? e.tags : TagsToJson(tagger_.Analyze(e.text, options));
    item.version = keep ? e.tagger_version : tagger_.version();
    item.shown = item.tags != e.tags;
    items.push_back(std::move(item));
  }
  if (Status s = Store(items); !s.ok()) return s;
  tagged.Add(std::count_if(items.begin(), items.end(), [](const Item& i) { return i.own; }));
  // Clients have what the message frame carried; tags a later version has replaced are not shown.
  std::erase_if(items, [](const Item& i) { return !i.current || !i.shown; });
  if (Status s = PlaceAndPublish(items); !s.ok()) return s;
  return Status::Ok();
}

Status TagWorker::Store(std::vector<Item>& items) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartArray();
  for (const auto& item : items) {
    w.StartObject();
    w.Key("id");
    w.Uint64(item.event->id);
    w.Key("room");
    w.Int64(item.event->room);
    w.Key("tags");
    w.RawValue(item.tags.data(), item.tags.size(), rapidjson::kObjectType);
    w.Key("v");
    StringOrNull(w, item.version);
    w.Key("uid");
    w.Int64(item.event->user.id);
    w.Key("cmid");
    StringOrNull(w, item.event->client_msg_id);
    w.EndObject();
  }
  w.EndArray();
  // A client's retry of a message seen under another id (message_sources, as the mention worker
  // keeps it) stores nothing: the persister folded it into that message, whose row has the tags.
  // Sources are inserted in key order, as the mention worker does, so the two cannot deadlock. A
  // row is replaced only by tags of a later registered version (tagger_versions; a version never
  // registered, or NULL, counts as the earliest). `old`, `fresh` and the main query see the tables as
  // they were before the statement. One row per item: written, new, tags changed, the stored version
  // is ours, a retry.
  auto r = pg_.Exec(
      "WITH input AS ("
      "  SELECT (x->>'id')::bigint AS message_id, (x->>'room')::bigint AS room_id, x->'tags' AS tags, x->>'v' AS v, "
      "         (x->>'uid')::bigint AS uid, x->>'cmid' AS cmid "
      "  FROM jsonb_array_elements($1::jsonb) AS x), "
      "src AS ("
      "  INSERT INTO message_sources (user_id, client_msg_id, message_id) "
      "  SELECT uid, cmid, message_id FROM input WHERE cmid IS NOT NULL ORDER BY 1, 2 "
      "  ON CONFLICT (user_id, client_msg_id) DO NOTHING), "
      "fresh AS ("
      "  SELECT i.* FROM input i LEFT JOIN message_sources s ON s.user_id = i.uid AND s.client_msg_id = i.cmid "
      "  WHERE s.message_id IS NULL OR s.message_id = i.message_id), "
      "old AS (SELECT t.message_id, t.tags, t.tagger_version AS v FROM message_tags t JOIN fresh USING (message_id)), "
      "up AS ("
      "  INSERT INTO message_tags AS t (message_id, room_id, tags, tagger_version) "
      "  SELECT message_id, room_id, tags, v FROM fresh "
      "  ON CONFLICT (message_id) DO UPDATE SET tags = EXCLUDED.tags, tagger_version = EXCLUDED.tagger_version "
      "  WHERE coalesce((SELECT seq FROM tagger_versions WHERE version = t.tagger_version), 0) "
      "      < coalesce((SELECT seq FROM tagger_versions WHERE version = EXCLUDED.tagger_version), 0) "
      "  RETURNING message_id) "
      "SELECT i.message_id, up.message_id IS NOT NULL, o.message_id IS NULL, o.tags IS DISTINCT FROM i.tags, "
      "       o.v IS NOT DISTINCT FROM i.v, f.message_id IS NULL "
      "FROM input i LEFT JOIN fresh f USING (message_id) LEFT JOIN up USING (message_id) "
      "LEFT JOIN old o USING (message_id)",
      {std::string(buf.GetString(), buf.GetSize())});
  if (!r.ok()) return r.status();
  std::unordered_map<uint64_t, Item*> by_id;
  for (auto& item : items) by_id[item.event->id] = &item;
  Counts batch;
  for (int row = 0; row < r->rows(); ++row) {
    const bool written = r->Bool(row, 1), is_new = r->Bool(row, 2), differs = r->Bool(row, 3), same = r->Bool(row, 4);
    Item* item = by_id.at(static_cast<uint64_t>(r->Int(row, 0)));
    if (r->Bool(row, 5)) {  // a retry: its first attempt's frame and row speak for it
      item->current = false;
      continue;
    }
    item->current = written || same;
    batch.inserted += written && is_new;
    batch.replaced += written && !is_new;
    batch.changed += written && !is_new && differs;
    batch.kept_later += !written && !same;
  }
  counts_.inserted += batch.inserted;
  counts_.replaced += batch.replaced;
  counts_.changed += batch.changed;
  counts_.kept_later += batch.kept_later;
  replaced.Add(batch.replaced);
  changed.Add(batch.changed);
  kept_later.Add(batch.kept_later);
  return Status::Ok();
}

// Finds the stored position of each message not placed yet, by its id or, for a client's retry that
// the persister folded into an earlier message, by its user and client_msg_id.
Status TagWorker::LookUpPositions(std::vector<Item*>& unplaced) {
  if (std::none_of(unplaced.begin(), unplaced.end(), [](Item* i) { return i->pos <= 0; })) return Status::Ok();
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartArray();
  for (size_t i = 0; i < unplaced.size(); ++i) {
    if (unplaced[i]->pos > 0) continue;
    const ChatEvent& e = *unplaced[i]->event;
    w.StartObject();
    w.Key("i");
    w.Uint64(i);
    w.Key("id");
    w.Uint64(e.id);
    w.Key("uid");
    w.Int64(e.user.id);
    w.Key("cmid");
    StringOrNull(w, e.client_msg_id);
    w.EndObject();
  }
  w.EndArray();
  auto r = pg_.Exec(
      "SELECT x.i, m.id, m.pos FROM jsonb_to_recordset($1::jsonb) AS x(i int, id bigint, uid bigint, cmid text) "
      "CROSS JOIN LATERAL ("
      "  SELECT id, pos FROM messages WHERE id = x.id "
      "  UNION ALL "
      "  SELECT id, pos FROM messages WHERE x.cmid IS NOT NULL AND user_id = x.uid AND client_msg_id = x.cmid "
      "  LIMIT 1) AS m",
      {std::string(buf.GetString(), buf.GetSize())});
  if (!r.ok()) return r.status();
  for (int row = 0; row < r->rows(); ++row) {
    Item* item = unplaced.at(static_cast<size_t>(r->Int(row, 0)));
    item->pos = r->Int(row, 2);
    item->duplicate = static_cast<uint64_t>(r->Int(row, 1)) != item->event->id;
  }
  return Status::Ok();
}

Status TagWorker::PlaceAndPublish(std::vector<Item>& items) {
  const std::string prefix = config_.RedisPrefix();
  std::vector<Item*> unplaced;
  for (auto& item : items) unplaced.push_back(&item);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.placement_wait_ms);
  auto backoff = std::chrono::milliseconds(10);
  while (!unplaced.empty()) {
    if (Status s = LookUpPositions(unplaced); !s.ok()) return s;
    std::vector<Item*> tried;
    for (Item* item : unplaced) {
      if (item->pos <= 0 || item->duplicate) continue;
      const ChatEvent& e = *item->event;
      redis_.AppendScript(PlaceTagsScript(), {RoomHistoryKey(prefix, e.room)},
                          {std::to_string(e.id), std::to_string(item->pos), item->tags, RoomChannel(prefix, e.room),
                           EncodeTagsFrame(e.room, e.id, item->tags)});
      tried.push_back(item);
    }
    std::vector<Item*> placed;
    if (!tried.empty()) {
      std::vector<RedisReply> replies;
      if (Status s = redis_.Flush(&replies); !s.ok()) return s;
      for (size_t i = 0; i < tried.size(); ++i) {
        if (replies[i].type == REDIS_REPLY_ERROR) return RedisError(replies[i]);
        if (replies[i].integer >= 0) placed.push_back(tried[i]);
      }
    }
    std::erase_if(unplaced, [&](Item* item) {
      return item->duplicate || std::find(placed.begin(), placed.end(), item) != placed.end();
    });
    if (unplaced.empty()) break;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline || (stop_ && *stop_)) {
      for (Item* item : unplaced)
        redis_.Append({"PUBLISH", RoomChannel(prefix, item->event->room),
                       EncodeTagsFrame(item->event->room, item->event->id, item->tags)});
      std::vector<RedisReply> replies;
      if (Status s = redis_.Flush(&replies); !s.ok()) return s;
      for (const auto& r : replies)
        if (r.type == REDIS_REPLY_ERROR) return RedisError(r);
      spdlog::warn("tag: {} message(s) not in their room's history yet; tags published without placing them",
                   unplaced.size());
      unplaced_frames.Add(static_cast<int64_t>(unplaced.size()));
      break;
    }
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(backoff, deadline - now));
    backoff = std::min(backoff * 2, std::chrono::milliseconds(200));
  }
  return Status::Ok();
}

}  // namespace chatpipe
