// Persister: the `persist` consumer group. Turns accepted chat events into stored messages.
//
// For each batch polled from chat.messages it (1) stores the events in PostgreSQL in one statement
// (chat_persist(): idempotent on the message id and on the user's client_msg_id, giving each new
// message the next position of its room), (2) pushes the stored frames (with the tags ingress put in
// the event) onto the rooms' Redis history
// lists (one script call per room) and publishes them on the rooms' channels (one PUBLISH per frame),
// all in one pipeline, and only then (3) stores the batch's offsets for commit. A crash anywhere
// before (3) replays the batch, which changes nothing already done:
// history pushes skip positions already there, and ingress drops frames it has already fanned out.
// The loop is ConsumeLoop's (workers/consume): if PostgreSQL or Redis is down it retries the same batch
// with backoff and commits nothing meanwhile; an event that can never be stored (malformed, or refused
// by the database) goes to the dead-letter topic with the reason, so one bad event never wedges a
// partition.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "common/config.h"
#include "common/events.h"
#include "queue/kafka.h"
#include "storage/pg.h"
#include "storage/redis_client.h"
#include "workers/consume/consume_loop.h"

namespace chatpipe {

class Persister {
 public:
  // `group` (before namespacing) and `range`: a range run (workers/consume) instead of the live group.
  Persister(CommonConfig config, size_t batch_max, std::string group = "persist", ConsumeRange range = {});
  Status Start();
  // Polls and processes batches until `stop` is set; returns after committing what is done.
  void Run(const std::atomic<bool>& stop);
  // Its consumer's readiness (ConsumeCore::CheckKafka): from any thread, after Start().
  Status CheckKafka(std::chrono::milliseconds timeout) { return loop_.CheckKafka(timeout); }
  // One batch's effects (steps 1 and 2). Exposed for tests; does not touch offsets.
  Status Apply(const std::vector<ChatEvent>& events, std::vector<StoredMessage>* stored);

 private:
  Status StoreInDatabase(const std::vector<ChatEvent>& events, std::vector<StoredMessage>* stored);
  Status StoreImages(const std::vector<ChatEvent>& events, std::vector<StoredMessage>* stored);
  Status PublishToRedis(const std::vector<StoredMessage>& stored);

  CommonConfig config_;
  PgConn pg_;
  RedisClient redis_;
  ConsumeLoop<ChatEvent> loop_;  // last: its steps use the members above
};

}  // namespace chatpipe
