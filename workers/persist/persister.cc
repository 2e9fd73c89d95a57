#include "workers/persist/persister.h"

#include <chrono>
#include <unordered_map>

#include "common/metrics.h"
#include "storage/chat_store.h"
#include "storage/redis_keys.h"

namespace chatpipe {
namespace {

// The two parts of the persister's apply step, each counted once per event of the batch.
LatencyHistogram& store_time = Histogram(kLatencyMetric, kLatencyHelp, {{"hop", "store"}, {"worker", "persist"}});
LatencyHistogram& publish_time = Histogram(kLatencyMetric, kLatencyHelp, {{"hop", "publish"}, {"worker", "persist"}});

}  // namespace

Persister::Persister(CommonConfig config, size_t batch_max, std::string group, ConsumeRange range)
    : config_(std::move(config)),
      pg_(config_.pg_conninfo),
      redis_(config_.RedisShards()),
      loop_(config_, {.worker = "persist", .group = std::move(group), .topics = {kMessagesTopic}, .batch_max = batch_max, .range = range},
            DecodeChatMessage, [this](const std::vector<ChatEvent>& events) {
              std::vector<StoredMessage> stored;
              return Apply(events, &stored);
            }) {}

Status Persister::Start() { return loop_.Start(); }

void Persister::Run(const std::atomic<bool>& stop) { loop_.Run(stop); }

Status Persister::StoreInDatabase(const std::vector<ChatEvent>& events, std::vector<StoredMessage>* stored) {
  std::string batch = "[";
  for (const auto& e : events) {
    if (batch.size() > 1) batch += ',';
    batch += EncodeChatEvent(e, /*with_tags=*/false);
  }
  batch += ']';
  auto rows = pg_.Exec("SELECT * FROM chat_persist($1::jsonb)", {batch});
  if (!rows.ok()) return rows.status();
  stored->clear();
  // The frame carries the tags ingress made (the table holds none: the tag worker stores them), so
  // clients get a message and its tags in one frame.
  std::unordered_map<uint64_t, const std::string*> tags;
  for (const auto& e : events)
    if (!e.tags.empty()) tags[e.id] = &e.tags;
  for (int i = 0; i < rows->rows(); ++i) {
    stored->push_back(MessageFromRow(*rows, i));
    if (auto it = tags.find(stored->back().event.id); it != tags.end()) stored->back().event.tags = *it->second;
  }
  return StoreImages(events, stored);
}

// chat_persist answers event i with row i (a client's retry: the first message's row), so an image
// goes with the stored id. A second statement, not a transaction: a crash between the two replays
// the batch, and both are idempotent.
Status Persister::StoreImages(const std::vector<ChatEvent>& events, std::vector<StoredMessage>* stored) {
  std::string pairs = "[";
  for (size_t i = 0; i < events.size() && i < stored->size(); ++i) {
    if (events[i].image.empty()) continue;
    (*stored)[i].event.image = events[i].image;
    if (pairs.size() > 1) pairs += ',';
    pairs += "[" + std::to_string((*stored)[i].event.id) + "," + events[i].image + "]";
  }
  if (pairs.size() == 1) return Status::Ok();
  pairs += ']';
  auto done = pg_.Exec(
      "INSERT INTO message_images (message_id, image) "
      "SELECT (x->>0)::bigint, (x->1)::json FROM json_array_elements($1::json) x ON CONFLICT DO NOTHING",
      {pairs});
  return done.ok() ? Status::Ok() : done.status();
}

Status Persister::PublishToRedis(const std::vector<StoredMessage>& stored) {
  const std::string prefix = config_.RedisPrefix();
  std::vector<std::string> frames;
  frames.reserve(stored.size());
  // One history push per room with its frames in batch order, then one PUBLISH per frame: every frame
  // is in its room's history before it is published, as with one push per message.
  std::vector<int64_t> rooms;
  std::unordered_map<int64_t, std::vector<std::string>> args;  // room -> cap, then pos, frame, ...
  for (const auto& m : stored) {
    frames.push_back(EncodeMessageFrame(m));
    auto [it, added] = args.try_emplace(m.event.room);
    if (added) {
      rooms.push_back(m.event.room);
      it->second.push_back(std::to_string(kHistoryCap));
    }
    it->second.push_back(std::to_string(m.pos));
    it->second.push_back(frames.back());
  }
  for (int64_t room : rooms)
    redis_.AppendScript(HistoryPushScript(), {RoomHistoryKey(prefix, room)}, std::move(args[room]));
  for (size_t i = 0; i < stored.size(); ++i)
    redis_.Append({"PUBLISH", RoomChannel(prefix, stored[i].event.room), std::move(frames[i])});
  std::vector<RedisReply> replies;
  if (Status s = redis_.Flush(&replies); !s.ok()) return s;
  for (const auto& r : replies)
    if (r.type == REDIS_REPLY_ERROR) return Status::Unavailable("redis_unavailable", "Redis: " + r.str);
  return Status::Ok();
}

Status Persister::Apply(const std::vector<ChatEvent>& events, std::vector<StoredMessage>* stored) {
  if (events.empty()) return Status::Ok();
  const auto n = static_cast<int64_t>(events.size());
  auto started = std::chrono::steady_clock::now();
  if (Status s = StoreInDatabase(events, stored); !s.ok()) return s;
  auto stored_at = std::chrono::steady_clock::now();
  store_time.Observe(stored_at - started, n);
  Status published = PublishToRedis(*stored);
  if (published.ok()) publish_time.Observe(std::chrono::steady_clock::now() - stored_at, n);
  return published;
}

}  // namespace chatpipe
