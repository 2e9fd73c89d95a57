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
#include <vector>

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
  // The tagger's JSON object (TagsToJson): ingress tags every message before Kafka. Empty in an event
  // from before inline tags, which the tag worker tags later.
  std::string tags;
  // The version of the tagger that made `tags` (Tagger::version); empty when untagged or unknown (an
  // event from before versions). Only in the Kafka event, never in the message frame, and only with tags.
  std::string tagger_version;
  // The image the message carries (docs/events.md: url, thumbnail_url, width, height, bytes, type),
  // as JSON object text made by ingress from the upload; empty for a text message. Its frames say
  // "kind":"image" and carry it; the text is then an optional caption.
  std::string image;
};

struct StoredMessage {
  ChatEvent event;
  int64_t pos = 0;
};

// `with_tags` false leaves out the tags and their version: the persister's batch for PostgreSQL,
// whose table holds none, need not carry (nor PostgreSQL parse) them.
std::string EncodeChatEvent(const ChatEvent& event, bool with_tags = true);
Result<ChatEvent> DecodeChatEvent(std::string_view json);

// {"type":"message","room":R,"pos":P,"id":"..","user":{..},"text":..,"ts":..[,"client_msg_id":..]
//  [,"kind":"image","image":{..}][,"tags":{..}]}
// Key order is fixed: readers that need the position or the id take them from the frame's head (the
// text up to the id, written from the constants below), and the tag worker's history patch appends
// "tags" last to frames that have none.
std::string EncodeMessageFrame(const StoredMessage& message);
Result<StoredMessage> DecodeMessageFrame(std::string_view json);

// A user asked to hear a message (POST /api/messages/{id}/speech): the chat.speech event, keyed by
// room, which the speech worker (workers/speech) answers once the audio exists.
// {"v":1,"type":"speech","message":"<id>","room":R,"user":U,"ts":T}: `user` is who asked, `ts` when.
struct SpeechRequest {
  uint64_t message = 0;
  int64_t room = 0;
  int64_t user = 0;
  int64_t ts_ms = 0;
};
std::string EncodeSpeechRequest(const SpeechRequest& request);
Result<SpeechRequest> DecodeSpeechRequest(std::string_view json);

// The frame telling an asker (on their user channel) that a message can be heard:
// {"type":"speech","room":R,"id":"<message id>","url":"/api/rooms/R/objects/KEY","duration_ms":D}.
struct SpeechReady {
  int64_t room = 0;
  uint64_t message = 0;
  std::string url;
  int64_t duration_ms = 0;
};
std::string EncodeSpeechFrame(const SpeechReady& ready);

// A placement on the pixel board (PUT /api/board/pixels, or `place` on a WebSocket), which the board
// worker (workers/board) applies. `id` is stamped by ingress like a message id and orders placements:
// a pixel shows its placement with the highest id (docs/board.md). A board.pixels event holds the
// placements one ingress loop took in one iteration (kafka costs per message, not per byte), each
// [id, user, x, y, color]; a placement's time is its id's:
// {"v":1,"type":"pixel_batch","placements":[["<id>",U,X,Y,C],...]}
// Ingress before 2026-12-05 wrote one event per placement, which the worker still reads:
// {"v":1,"type":"pixel","id":"<id>","user":U,"x":X,"y":Y,"color":C,"ts":T}
struct PixelPlacement {
  uint64_t id = 0;
  int64_t user = 0;
  int x = 0;
  int y = 0;
  int color = 0;
  int64_t ts_ms = 0;
};
std::string EncodePixelBatch(const std::vector<PixelPlacement>& placements);
// Either event above. Checks the shape only; the board's bounds are BoardConfig::CheckPixel's.
Result<std::vector<PixelPlacement>> DecodePixelPlacements(std::string_view json);

// The board's frame of one applied batch (docs/board.md), published by the board worker's script
// (storage/board_store.h, which writes this layout) and merged by ingress loops:
// {"type":"pixels","prev":P,"v":V,"pixels":[[x,y,color],...]}.
inline constexpr std::string_view kPixelsHead = R"({"type":"pixels","prev":)";
inline constexpr std::string_view kPixelsVersionKey = R"(,"v":)";
inline constexpr std::string_view kPixelsItemsKey = R"(,"pixels":[)";
struct PixelsFrame {
  int64_t prev = 0;
  int64_t v = 0;
  std::string_view items;  // the array's contents, without its brackets
};
// Reads a pixels frame without parsing the JSON; false for any other text (or prev >= v).
bool ReadPixelsFrame(std::string_view text, PixelsFrame* frame);
std::string EncodePixelsFrame(int64_t prev, int64_t v, std::string_view items);

// A message frame's head, the one statement of its layout: kFrameHead R kFramePosKey P kFrameIdKey ID".
// EncodeMessageFrame writes it, ReadFrameHead reads it, and the Lua scripts that meet frames in Redis
// match it with FrameHeadLuaPattern(), built from the same constants.
inline constexpr std::string_view kFrameHead = R"({"type":"message","room":)";
inline constexpr std::string_view kFramePosKey = R"(,"pos":)";
inline constexpr std::string_view kFrameIdKey = R"(,"id":")";

struct FrameHead {
  int64_t room = 0;
  int64_t pos = 0;
  std::string_view rest;  // the frame after the position, from kFrameIdKey on
};
// Reads the head of a message frame without parsing the JSON; false for any other frame.
bool ReadFrameHead(std::string_view frame, FrameHead* head);
// The position of a message frame, or 0 for other frames (joined, presence, ...).
int64_t FramePosition(std::string_view frame);
// A Lua pattern (string.match) for the same head, capturing the position and the id's digits.
const std::string& FrameHeadLuaPattern();

}  // namespace chatpipe
