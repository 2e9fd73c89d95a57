// Accepting a chat message, the same for HTTP and WebSocket: check it, stamp a time-ordered id and the
// server's time, produce it to Kafka keyed by room (one partition per room keeps its order), and call
// back on the connection's loop once the broker has it (acks=all) or has refused it. The client is
// answered only from that callback, so an acknowledgement always means "in Kafka". A message naming
// more than --max-mentions distinct users is refused (too_many_mentions). The tagger runs here first,
// on the loop: about a microsecond for a chat message, and linear in the text for any text (at most 200
// steps a byte, analysis/steps_test), so bounded by the 4,000-character limit (bench/tagger_bench:
// "worst per message on the loop"). Per level of bad word (common/moderation.h), a room that masks it
// gets those words masked in the text, one that blocks it refuses the message with 422 "blocked".
// With --short-circuit (benchmark floor, ShortCircuit) the message skips Kafka and is acked at once.
#pragma once

#include <functional>
#include <string>

#include "common/events.h"
#include "common/status.h"
#include "common/token.h"
#include "ingress/room_access.h"

namespace chatpipe {

class Loop;

// `facts` are the room's, as RoomAccess::Check just handed them: the moderation is read from there,
// never from a cache that may have dropped the room since. `image`, when not 0, is an upload of the
// user's in this room (checked in PostgreSQL before Kafka: media_api.h ResolveImage) that the message
// carries, and the text is its caption, which may be empty.
//
// What ends the intake (the refusal, or the stamp and produce) is handed to `in_order`, which runs it
// once the connection's earlier sends have ended theirs: a WebSocket's sends reach Kafka in the order
// they came (ws_session.cc, SendOrder). HTTP reads a connection's next request only once this one is
// answered, so it passes RunNow.
using InOrder = std::function<void(std::function<void()> end)>;
void AcceptMessage(Loop& loop, const TokenUser& user, int64_t room, const RoomFacts& facts, std::string text,
                   std::string client_msg_id, uint64_t image, const InOrder& in_order,
                   std::function<void(Status, const ChatEvent&)> done);
void RunNow(std::function<void()> end);

}  // namespace chatpipe
