#include "ingress/message_intake.h"

#include <chrono>
#include <memory>

#include "analysis/mask.h"
#include "analysis/mention_parser.h"
#include "common/log.h"
#include "common/log_throttle.h"
#include "common/metrics.h"
#include "common/steady_clock.h"
#include "ingress/json_input.h"
#include "ingress/loop.h"
#include "ingress/media_api.h"
#include "ingress/room_tags.h"

namespace chatpipe {
namespace {

Metric& accepted = Counter("chatpipe_ingress_messages_accepted_total", "messages confirmed by Kafka");
Metric& refused = Counter("chatpipe_ingress_messages_failed_total", "messages Kafka did not confirm");
LatencyHistogram& produce_time = Histogram(kLatencyMetric, kLatencyHelp, {{"hop", "produce"}});

// Every message is tagged here, before Kafka, so that its frame carries its tags to every client at
// once (a tags frame after it would double the fan-out; the tagger is linear and bounded, about 2 µs
// for a chat message). Each level of bad word has the room's policy for it: "block" refuses the
// message, "mask" replaces those words with their masked form, so no client (nor the history) ever
// holds them. The tags' masked text also hides strong words where the room only tags them: what a
// client shows until its reader reveals them (mild words are shown). The author's own name is never
// profanity. The event carries the tagger's version with the tags, for the tag worker to store.
Status TagAndModerate(const Moderation& moderation, const Tagger& tagger, const std::string& author,
                      std::string* text, ChatEvent* event) {
  Tags tags = tagger.Analyze(*text, RoomTagOptions(moderation, author));
  for (Severity level : tags.term_levels)
    if (moderation.For(level == Severity::kStrong) == Policy::kBlock)
      return Status::Refused("blocked", std::string("this room does not accept ") + SeverityName(level) + " profanity");
  if (moderation.Masks()) {
    *text = tags.masked;  // strong words are masked too: the room masks or blocks them
    for (size_t i = 0; i < tags.terms.size(); ++i)
      if (moderation.For(tags.term_levels[i] == Severity::kStrong) == Policy::kMask) tags.terms[i] = MaskTerm(tags.terms[i]);
  }
  event->tags = TagsToJson(tags);
  event->tagger_version = tagger.version();
  return Status::Ok();
}

// A message may name at most max distinct users: one message cannot notify (and e-mail) a crowd.
Status CheckMentions(std::string_view text, size_t max) {
  if (!ParseMentions(text, max).more_users) return Status::Ok();
  return Status::InvalidArgument("too_many_mentions",
                                 "a message may mention at most " + std::to_string(max) + " users (@name)");
}

}  // namespace

namespace {

// Debug lines: one a message would flood an info log. A refusal by Kafka is a warning, at most one a
// second: an outage refuses every message in flight at once, and the client is told each time.
void LogIntake(const Status& s, const ChatEvent& e) {
  if (s.ok())
    return LogEvent(spdlog::level::debug, "message_accepted",
                    {{"room", e.room}, {"message_id", e.id}, {"user", e.user.id}});
  static LogThrottle throttle(1000);
  if (int64_t held_back = 0; e.id && throttle.Due(SteadyMs(), &held_back))
    return LogEvent(spdlog::level::warn, "message_refused",
                    {{"room", e.room}, {"message_id", e.id}, {"user", e.user.id}, {"error", s.ToString()},
                     {"refused_since_last_warning", held_back}});
  LogEvent(spdlog::level::debug, "message_refused",
           {{"room", e.room}, {"message_id", e.id}, {"user", e.user.id}, {"error", s.ToString()}});
}

// Stamps the event and produces it; `done` runs on the loop once Kafka has it (or refused it).
void StampAndProduce(Loop& loop, const TokenUser& user, int64_t room, std::shared_ptr<ChatEvent> event,
                     std::function<void(Status, const ChatEvent&)> done) {
  Services& services = loop.services();
  auto id = services.NextId();
  if (!id.ok()) return done(id.status(), *event);
  event->id = *id;
  event->ts_ms = static_cast<int64_t>(MessageIdGenerator::TimestampMs(event->id));
  event->room = room;
  event->user = {user.id, user.name};
  if (services.short_circuit) {
    services.short_circuit->Publish(*event, loop.rooms().KnownPosition(room), &loop);
    accepted.Add();
    return done(Status::Ok(), *event);
  }
  if (!loop.tasks().Admit()) return done(Busy(), *event);
  Loop* home = &loop;
  const auto produced = std::chrono::steady_clock::now();
  services.producer->Produce(services.config.common.Topic(kMessagesTopic), std::to_string(room),
                             EncodeChatEvent(*event), [home, event, produced, done = std::move(done)](Status s) mutable {
                               (s.ok() ? accepted : refused).Add();
                               LogIntake(s, *event);
                               if (s.ok()) produce_time.Observe(std::chrono::steady_clock::now() - produced);
                               home->tasks().Answer([event, s, done = std::move(done)] { done(s, *event); });
                             });
}

}  // namespace

void AcceptMessage(Loop& loop, const TokenUser& user, int64_t room, const RoomFacts& facts, std::string text,
                   std::string client_msg_id, uint64_t image, const InOrder& in_order,
                   std::function<void(Status, const ChatEvent&)> done) {
  auto event = std::make_shared<ChatEvent>();
  event->client_msg_id = std::move(client_msg_id);  // set first: a refusal names it too
  // An image's caption may be empty; a text message's text may not.
  Status valid = image && text.empty() ? Status::Ok() : CheckMessageText(text);
  if (valid.ok() && !event->client_msg_id.empty()) valid = CheckClientMessageId(event->client_msg_id);
  Services& services = loop.services();
  if (valid.ok()) valid = CheckMentions(text, services.config.max_mentions);
  if (valid.ok() && !text.empty()) valid = TagAndModerate(facts.moderation, *services.tagger, user.name, &text, event.get());
  if (!valid.ok()) {
    event->room = room;
    event->user = {user.id, user.name};
    LogIntake(valid, *event);
    return in_order([valid, event, done = std::move(done)] { done(valid, *event); });
  }
  event->text = std::move(text);
  Loop* home = &loop;
  if (!image) return in_order([home, user, room, event, done = std::move(done)]() mutable {
    StampAndProduce(*home, user, room, event, std::move(done));
  });
  ResolveImage(loop, image, room, user.id, [home, user, room, event, in_order, done = std::move(done)](Result<std::string> json) mutable {
    in_order([home, user, room, event, json = std::move(json), done = std::move(done)]() mutable {
      if (!json.ok()) return done(json.status(), *event);
      event->image = std::move(*json);
      StampAndProduce(*home, user, room, event, std::move(done));
    });
  });
}

void RunNow(std::function<void()> end) { end(); }

}  // namespace chatpipe
