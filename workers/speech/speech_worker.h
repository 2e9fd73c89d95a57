// SpeechWorker: the `speech` consumer group. Reads messages aloud for the users who ask
// (POST /api/messages/{id}/speech; issue 17, docs/media.md "Spoken messages").
//
// Ingress produces a chat.speech event (SpeechRequest, common/events.h) for each request while the
// message has no speech row, so one message may come many times, from many askers, and again on a
// replay. For each batch the worker
//   1. reads, for the batch's distinct messages, the stored text (messages.body: in a mask room it is
//      already masked, and that is what is spoken), the language the tag worker stored
//      (message_tags.tags->>'lang'; the Tagger's guess when there is no row yet) and any speech row;
//      a message that does not exist, or is not in the event's room, is skipped with a warning;
//   2. synthesises those without a speech row (media/speech.h) and Puts each Ogg file in the object
//      store under its SHA-256, so the bytes are durable before anything points at them;
//   3. in one statement (one transaction) inserts objects, room_objects and speech, each ON CONFLICT
//      DO NOTHING, and reads back each message's speech row (the first one made wins: espeak-ng's
//      output varies a little from run to run, so a second synthesis is other bytes);
//   4. PUBLISHes {"type":"speech","room":R,"id":..,"url":..,"duration_ms":D} (EncodeSpeechFrame) on
//      the user channel of every asker of every spoken message, pipelined, one round trip;
//   5. and only then lets its ConsumeLoop (workers/consume) store the batch's offsets.
// So a replay, or an event for a message spoken already, synthesises nothing and only re-tells the
// asker. A text that cannot be spoken (blank once read, too long: SpeechLimits) is skipped with a
// warning and counted: it would fail the same way every time. A failure of the synthesiser itself
// (espeak-ng or the encoder) is returned after the rest of the batch is done, so the consume loop
// applies the batch again one event at a time and dead-letters the failing one; the others only
// re-publish their frames. PostgreSQL, Redis or the store being away fails the batch, to be retried.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "analysis/tagger.h"
#include "common/config.h"
#include "common/events.h"
#include "media/speech.h"
#include "storage/object_store.h"
#include "storage/pg.h"
#include "storage/redis_client.h"
#include "workers/consume/consume_loop.h"

namespace chatpipe {

struct SpeechWorkerOptions {
  size_t batch = 20;  // synthesis takes ~0.1 s per short message: keep a batch's wait short
  std::string group = "speech";  // before namespacing
  ConsumeRange range = {};
  SpeechLimits limits;
};

class SpeechWorker {
 public:
  // `store` and `tagger` must outlive the worker.
  SpeechWorker(CommonConfig config, ObjectStore& store, const Tagger& tagger, SpeechWorkerOptions options);
  Status Start();  // joins the consumer group
  void Run(const std::atomic<bool>& stop);
  // Its consumer's readiness (ConsumeCore::CheckKafka): from any thread, after Start().
  Status CheckKafka(std::chrono::milliseconds timeout) { return loop_.CheckKafka(timeout); }
  // One batch's effects (steps 1 to 4); does not touch offsets. Exposed for tests.
  Status Apply(const std::vector<SpeechRequest>& requests);

 private:
  struct Item;
  Status Load(std::vector<Item>& items);
  Status Speak(std::vector<Item>& items, Status* synth_failure);
  Status Record(std::vector<Item>& items);
  Status Publish(const std::vector<SpeechRequest>& requests, const std::vector<Item>& items);

  CommonConfig config_;
  ObjectStore& store_;
  const Tagger& tagger_;
  SpeechWorkerOptions options_;
  PgConn pg_;
  RedisClient redis_;
  ConsumeLoop<SpeechRequest> loop_;  // last: its steps use the members above
};

// The decoder of chat.speech.
Result<SpeechRequest> DecodeSpeechEvent(const KafkaMessage& m);

}  // namespace chatpipe
