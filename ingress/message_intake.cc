#include "ingress/message_intake.h"

#include <memory>

#include "common/metrics.h"
#include "ingress/json_input.h"
#include "ingress/loop.h"

namespace chatpipe {
namespace {

Metric& accepted = Counter("chatpipe_ingress_messages_accepted_total", "messages confirmed by Kafka");
Metric& refused = Counter("chatpipe_ingress_messages_failed_total", "messages Kafka did not confirm");

// One character of a term shown, the rest starred, as the tagger masks the text ("mierda" -> "m*****").
std::string MaskTerm(const std::string& term) {
  size_t first = 1;
  while (first < term.size() && (static_cast<unsigned char>(term[first]) & 0xC0) == 0x80) ++first;
  std::string out = term.substr(0, first);
  for (size_t i = first; i < term.size(); ++i)
    if ((static_cast<unsigned char>(term[i]) & 0xC0) != 0x80) out += '*';
  return out;
}

// Rooms whose policy is not "tag" are tagged here, before Kafka: "block" refuses profanity, and "mask"
// replaces the text with its masked form, so no client (nor the history) ever holds the original.
Status Moderate(const std::string& policy, const Tagger& tagger, std::string* text, std::string* tags_json) {
  if (policy == "tag") return Status::Ok();
  Tags tags = tagger.Analyze(*text);
  if (tags.profane && policy == "block")
    return Status::Refused("blocked", "this room does not accept profanity");
  if (policy == "mask") {
    *text = tags.masked;
    for (std::string& term : tags.terms) term = MaskTerm(term);
  }
  *tags_json = TagsToJson(tags);
  return Status::Ok();
}

}  // namespace

void AcceptMessage(Loop& loop, const TokenUser& user, int64_t room, std::string text, std::string client_msg_id,
                   std::function<void(Status, const ChatEvent&)> done) {
  auto event = std::make_shared<ChatEvent>();
  event->client_msg_id = std::move(client_msg_id);  // set first: a refusal names it too
  Status valid = CheckMessageText(text);
  if (valid.ok() && !event->client_msg_id.empty()) valid = CheckClientMessageId(event->client_msg_id);
  if (!valid.ok()) return done(valid, *event);
  Services& services = loop.services();
  if (Status s = Moderate(loop.RoomModeration(room), *services.tagger, &text, &event->tags); !s.ok())
    return done(s, *event);
  event->id = services.ids.Next();
  event->ts_ms = static_cast<int64_t>(MessageIdGenerator::TimestampMs(event->id));
  event->room = room;
  event->user = {user.id, user.name};
  event->text = std::move(text);
  if (services.short_circuit) {
    services.short_circuit->Publish(*event, loop.rooms().KnownPosition(room), &loop);
    accepted.Add();
    return done(Status::Ok(), *event);
  }
  Loop* home = &loop;
  services.producer->Produce(services.config.common.Topic(kMessagesTopic), std::to_string(room),
                             EncodeChatEvent(*event), [home, event, done = std::move(done)](Status s) mutable {
                               (s.ok() ? accepted : refused).Add();
                               home->Post([event, s, done = std::move(done)] { done(s, *event); });
                             });
}

}  // namespace chatpipe
