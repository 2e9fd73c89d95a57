// MentionWorker: the `mention` consumer group. Turns @mentions in chat messages into the mentions
// inbox, live notifications and, for users who are away, chat.notify events for the mailer.
//
// For each batch of chat.messages it parses every text (ParseMentions) and resolves who is meant:
//   @name       that user (case-insensitive), when they exist;
//   @room, @all every member of the room. A private room's members are its room_members rows. A public
//               room has no member list: its members are everyone who has posted in it (messages)
//               or is present in it now (the Redis set RoomPresentKey, scores = expiry ms > now);
//   @here       the room's users present now.
// Nobody is notified of their own message, and in a private room only its members can be mentioned,
// so a private message never reaches anyone else. Unknown names are ignored. A user meant several
// ways gets one mention, of the most specific kind (user, then room, then here).
// Then, in one statement (one transaction) for the batch, it inserts the mentions
// (ON CONFLICT (message_id, user_id) DO NOTHING) and reads back every mention of the batch not
// notified yet (notified_at IS NULL: the new rows, and rows whose notification a crash cut short).
// For those it
//   1. produces, for each user who is offline (no live score in OnlineKey) and has an e-mail address
//      with email_notifications on, when the message is younger than email_max_age_s, {"type":"mention","mention_id":..} to chat.notify keyed by the user
//      id, and waits for every delivery report;
//   2. PUBLISHes {"type":"notification","mention":{..}} on each user's channel (UserChannel);
//   3. sets notified_at;
// and only then lets its ConsumeLoop (workers/consume) store the batch's offsets. So a replay notifies nothing twice unless
// the worker died between 1 and 3: chat.notify is at least once (the mailer dedups by mention_id)
// and the live frame is at least once (clients dedup by mention id).
// A client's retry (a new message id, the same sender and client_msg_id) mentions nobody again: the
// first id seen for that pair is recorded in message_sources and later ones are skipped.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/events.h"
#include "queue/kafka.h"
#include "storage/pg.h"
#include "storage/redis_client.h"
#include "workers/consume/consume_loop.h"

namespace chatpipe {

struct MentionWorkerOptions {
  size_t batch = 500;
  std::string group = "mention";  // before namespacing
  // Users one message may mention: ingress refuses more (--max-mentions); this guards the mailer from
  // any message that reached the topic another way: only its first max_mentions names are notified.
  size_t max_mentions = 20;
  ConsumeRange range = {};  // a range run (workers/consume)
  // A mention in a message older than this (by the event's ts) gets no e-mail: it is history being
  // replayed, or the worker is far behind, and the inbox and the live frame still carry it.
  int64_t email_max_age_s = 86400;
};

class MentionWorker {
 public:
  MentionWorker(CommonConfig config, MentionWorkerOptions options);
  Status Start();  // joins the consumer group, opens the chat.notify producer
  void Run(const std::atomic<bool>& stop);
  // Its consumer's readiness (ConsumeCore::CheckKafka): from any thread, after Start().
  Status CheckKafka(std::chrono::milliseconds timeout) { return loop_.CheckKafka(timeout); }
  // One batch's effects; does not touch offsets. Needs Start(). Exposed for tests.
  Status Apply(const std::vector<ChatEvent>& events);

 private:
  struct Pending;
  struct Recipient;
  struct Notice;
  Status Resolve(std::vector<Pending>& pending, std::vector<Recipient>* recipients);
  Status Record(const std::vector<Pending>& pending, const std::vector<Recipient>& recipients,
                std::vector<Notice>* notices);
  Status Notify(const std::vector<Pending>& pending, const std::vector<Notice>& notices);

  CommonConfig config_;
  MentionWorkerOptions options_;
  PgConn pg_;
  RedisClient redis_;
  std::unique_ptr<KafkaProducer> notify_;
  ConsumeLoop<ChatEvent> loop_;  // last: its steps use the members above
};

}  // namespace chatpipe
