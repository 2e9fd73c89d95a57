// The events chatpipe moves, and their one JSON encoding each (documented in docs/events.md).
//
// A ChatEvent is what ingress produces to Kafka for an accepted message. A StoredMessage is that event
// once the persister has given it its per-room position; EncodeMessageFrame() is the exact text that is
// stored in the Redis history list, published on the room's channel and sent to WebSocket clients, so
// it is encoded once and never re-encoded on the way out. Message ids travel as decimal strings because
// JavaScript numbers cannot hold 64 bits.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace chatpipe {

inline constexpr int kEventSchemaVersion = 1;

struct UserRef {
  int64_t id = 0;
  std::string name;
};

struct ChatEvent {
  uint64_t id = 0;
  int64_t room = 0;
  UserRef user;
  std::string text;
  int64_t ts_ms = 0;
  std::string client_msg_id;  // empty when the client gave none
  // The tagger's JSON object (TagsToJson) when ingress tagged the message inline (rooms whose
  // moderation is mask or block); empty when untagged, and then the tag worker tags it later.
  std::string tags;
  // The version of the tagger that made `tags` (Tagger::version); empty when untagged or unknown (an
  // event from before versions). Only in the Kafka event, never in the message frame, and only with tags.
  std::string tagger_version;
};

struct StoredMessage {
  ChatEvent event;
  int64_t pos = 0;
};

std::string EncodeChatEvent(const ChatEvent& event);
Result<ChatEvent> DecodeChatEvent(std::string_view json);

// {"type":"message","room":R,"pos":P,"id":"..","user":{..},"text":..,"ts":..[,"client_msg_id":..][,"tags":{..}]}
// Key order is fixed: scripts that need the position read it from the front of the text, and the tag
// worker's history patch appends "tags" last to frames that have none.
std::string EncodeMessageFrame(const StoredMessage& message);
Result<StoredMessage> DecodeMessageFrame(std::string_view json);

}  // namespace chatpipe
