// Accepting a chat message, the same for HTTP and WebSocket: check it, stamp a time-ordered id and the
// server's time, produce it to Kafka keyed by room (one partition per room keeps its order), and call
// back on the connection's loop once the broker has it (acks=all) or has refused it. The client is
// answered only from that callback, so an acknowledgement always means "in Kafka". In rooms whose
// moderation is "mask" or "block" the tagger runs here first (about a microsecond a message): a mask
// room's text is replaced by its masked form, a block room refuses profanity with 422 "blocked".
// With --short-circuit (benchmark floor, ShortCircuit) the message skips Kafka and is acked at once.
#pragma once

#include <functional>
#include <string>

#include "common/events.h"
#include "common/status.h"
#include "common/token.h"

namespace chatpipe {

class Loop;

void AcceptMessage(Loop& loop, const TokenUser& user, int64_t room, std::string text, std::string client_msg_id,
                   std::function<void(Status, const ChatEvent&)> done);

}  // namespace chatpipe
