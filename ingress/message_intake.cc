#include "ingress/message_intake.h"

#include <memory>

#include "common/metrics.h"
#include "ingress/json_input.h"
#include "ingress/loop.h"

namespace chatpipe {
namespace {

Metric& accepted = Counter("chatpipe_ingress_messages_accepted_total", "messages confirmed by Kafka");
Metric& refused = Counter("chatpipe_ingress_messages_failed_total", "messages Kafka did not confirm");

}  // namespace

void AcceptMessage(Loop& loop, const TokenUser& user, int64_t room, std::string text, std::string client_msg_id,
                   std::function<void(Status, const ChatEvent&)> done) {
  auto event = std::make_shared<ChatEvent>();
  event->client_msg_id = std::move(client_msg_id);  // set first: a refusal names it too
  Status valid = CheckMessageText(text);
  if (valid.ok() && !event->client_msg_id.empty()) valid = CheckClientMessageId(event->client_msg_id);
  if (!valid.ok()) return done(valid, *event);
  Services& services = loop.services();
  event->id = services.ids.Next();
  event->ts_ms = static_cast<int64_t>(MessageIdGenerator::TimestampMs(event->id));
  event->room = room;
  event->user = {user.id, user.name};
  event->text = std::move(text);
  Loop* home = &loop;
  services.producer->Produce(services.config.common.Topic(kMessagesTopic), std::to_string(room),
                             EncodeChatEvent(*event), [home, event, done = std::move(done)](Status s) mutable {
                               (s.ok() ? accepted : refused).Add();
                               home->Post([event, s, done = std::move(done)] { done(s, *event); });
                             });
}

}  // namespace chatpipe
