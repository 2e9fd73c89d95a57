// Stamp: how the load generator marks the messages it sends, and how it reads the server's frames
// back without a JSON parser (a receiver may see millions of frames a second).
//
// A message carries client_msg_id "<run>-<proc>-<conn>-<seq>" and the text
// "lg <run> <proc> <conn> <seq> <send_ns>[ padding]": run tells this run's messages from others',
// (proc, conn) names the sending connection (a "stream"), seq numbers its messages from 0 so a
// receiver can spot duplicates with one bit each, and send_ns (CLOCK_REALTIME, the intended send time
// of the open-loop schedule) gives the send-to-delivery latency on any process of this machine.
// The reader relies on the server's fixed key order (common/events.h) and on JSON escaping: a quote
// inside a string value is always escaped, so `"text":"` is found only as the real key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace chatpipe::bench {

struct Stamp {
  uint32_t proc = 0;
  uint32_t conn = 0;
  uint32_t seq = 0;
  int64_t send_ns = 0;
  uint64_t stream() const { return (uint64_t{proc} << 32) | conn; }
};

std::string ClientMessageId(std::string_view run, const Stamp& s);
// The message text; padded with 'x' to at least `min_bytes` bytes.
std::string StampText(std::string_view run, const Stamp& s, size_t min_bytes);

enum class FrameType { kMessage, kAck, kError, kJoined, kPresence, kOther };
FrameType TypeOf(std::string_view frame);

// A "message" frame: its room and position, and the stamp if it is one of this run's. Returns false
// when the frame has no stamp of `run` (another client's message, another run's).
bool ReadMessage(std::string_view frame, std::string_view run, int64_t* room, int64_t* pos, Stamp* stamp);

// The stamp in the first "text" string of a JSON object, if it is one of this run's: for peers whose
// deliveries carry the generator's own object (Centrifuge's publication data), not chatpipe's frame.
bool ReadTextStamp(std::string_view json, std::string_view run, Stamp* stamp);

// The stamp in a message text (StampText's form), if it is one of this run's.
bool ParseStampText(std::string_view text, std::string_view run, Stamp* stamp);

// The client_msg_id of an ack or error frame, if it is one of this run's (then *stamp gets proc,
// conn and seq; send_ns stays 0).
bool ReadClientMessageId(std::string_view frame, std::string_view run, Stamp* stamp);

// The "code" of an error frame, or "".
std::string_view ErrorCode(std::string_view frame);

// The payload of a Socket.IO event packet `42["name",PAYLOAD]` (bench/peers/socketio-server.js sends
// chatpipe's frame objects as payloads), or "" when the packet is no event with a payload.
std::string_view SocketIoEventPayload(std::string_view packet);

}  // namespace chatpipe::bench
