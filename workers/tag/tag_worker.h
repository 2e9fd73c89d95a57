// TagWorker: the `tag` consumer group. Tags every chat message and shows the tags to the room.
//
// Ingress tags every message before Kafka, and the message frame carries those tags to clients, so
// the worker is off the delivery path: a batch gathers messages for up to `gather_ms` (100 ms) after
// its first, because a statement and its statistics trigger cost PostgreSQL per batch and per room
// more than per message. For each batch of chat.messages the worker
//   1. takes each event's tags: the event's own when this worker's tagger has the version the event
//      names, or when the text was masked at intake (a mask room: the original is gone); else (re-
//      tagging with other word lists, an event from before inline tags) the Tagger's (TagsToJson);
//   2. stores them in message_tags with the version of the tagger that made them (its own, or the one
//      the event names for inline tags; NULL when an old event names none), one statement for the
//      batch: a new row, or replacing a row of an earlier version (tagger_versions orders them; the
//      worker registers its own at Start), never one of a later version. Replaced rows, and those whose
//      tags changed, are counted (metrics, and the summary line at the end of a range run);
//   3. for each message whose tags now differ from those its frame carried (and whose row holds
//      them), waits until the persister has stored the message and pushed it to the room's Redis
//      history, then, in one Lua script per message, sets ,"tags":{..} at the end of that history entry
//      and PUBLISHes {"type":"tags","room":R,"id":"<id>","tags":{..}} on the room's channel. Publishing
//      only once the message is placed keeps the tags frame behind the message frame for live
//      clients. A message that is not placed within `placement_wait_ms` (persister down or far
//      behind), or when the worker is asked to stop, gets its frame published anyway, and its history
//      entry is left as the persister writes it. Live, with the same word lists as ingress, nothing
//      is published: a tags frame would only repeat the message frame's tags to every subscriber;
//   4. and only then lets its ConsumeLoop (workers/consume) store the batch's offsets.
// Replaying a batch inserts nothing twice and republishes identical tags frames (clients apply them
// by message id). An event that is a client's retry of a message seen under another id (same user
// and client_msg_id, recorded in message_sources) stores and publishes nothing: the persister folded
// it into that message, whose row and frame speak for it.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/events.h"
#include "storage/pg.h"
#include "storage/redis_client.h"
#include "analysis/tagger.h"
#include "workers/consume/consume_loop.h"

namespace chatpipe {

struct TagWorkerOptions {
  size_t batch = 500;
  std::string group = "tag";  // before namespacing
  int placement_wait_ms = 5000;  // see step 3
  int gather_ms = 100;            // ConsumeOptions::gather
  ConsumeRange range = {};        // a range run (workers/consume): re-tagging a span of history
};

class TagWorker {
 public:
  TagWorker(CommonConfig config, const Tagger& tagger, TagWorkerOptions options);
  Status Start();  // registers the tagger's version, joins the group
  void Run(const std::atomic<bool>& stop);
  // Its consumer's readiness (ConsumeCore::CheckKafka): from any thread, after Start().
  Status CheckKafka(std::chrono::milliseconds timeout) { return loop_.CheckKafka(timeout); }
  // One batch's effects (steps 1 to 3); does not touch offsets. Exposed for tests.
  Status Apply(const std::vector<ChatEvent>& events);

 private:
  struct Item;
  struct Counts {
    int64_t inserted = 0, replaced = 0, changed = 0, kept_later = 0;
  };
  Status Store(std::vector<Item>& items);
  Status PlaceAndPublish(std::vector<Item>& items);
  Status LookUpPositions(std::vector<Item*>& unplaced);

  CommonConfig config_;
  const Tagger& tagger_;
  TagWorkerOptions options_;
  PgConn pg_;
  RedisClient redis_;
  const std::atomic<bool>* stop_ = nullptr;  // Run's flag: ends a placement wait early
  Counts counts_;                            // since Start, for a range run's summary
  ConsumeLoop<ChatEvent> loop_;  // last: its steps use the members above
};

// {"type":"tags","room":R,"id":"<id>","tags":TAGS}; `tags` is a JSON object, copied as it is.
std::string EncodeTagsFrame(int64_t room, uint64_t id, const std::string& tags);

}  // namespace chatpipe
