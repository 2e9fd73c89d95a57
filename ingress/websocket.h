// WebSocket (RFC 6455) for ingress and test clients: the opening handshake checks, and a frame codec
// that is pure (bytes in, events out, no I/O) and cheap enough for the hot path.
//
// FrameDecoder: one per connection, owned by it. Fed whatever bytes arrived, split anywhere; returns
// one event at a time (complete messages, with fragments reassembled, and control frames, which may
// arrive between fragments). It owns the reassembly buffer; an event's payload points into it, or
// into the bytes fed when they hold the whole unmasked frame, and stays valid until the next Feed
// (and while those bytes do). Buffers are reused, so a warmed-up decoder does not allocate.
// Violations put the decoder in a sticky error state holding the close code to send (1002 protocol
// error, 1007 invalid UTF-8, 1009 message too big) and a short reason.
//
// Encoding writes headers into caller storage so a server can build a broadcast frame once and send
// the same bytes to every subscriber; clients pass a mask key, which servers must not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/utf8.h"
#include "ingress/http_request.h"

namespace chatpipe::ws {

// --- Handshake ---

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key: base64(SHA-1(key + RFC 6455 GUID)).
std::string AcceptKey(std::string_view client_key);

// Checks that a request is a valid WebSocket upgrade: GET, HTTP/1.1, "Upgrade: websocket", a
// Connection header with the "upgrade" token, and a Sec-WebSocket-Key of 16 base64-encoded bytes
// (400 otherwise); Sec-WebSocket-Version 13 (426 otherwise; the answer should then carry
// "Sec-WebSocket-Version: 13").
Status CheckUpgradeRequest(const http::Request& request);

// The complete "101 Switching Protocols" response for a request that passed CheckUpgradeRequest, with
// `extra_headers` (whole lines, each ending in CRLF) after the handshake's own.
std::string UpgradeResponse(const http::Request& request, std::string_view extra_headers);

// --- Frames ---

enum class Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close codes we send or interpret (RFC 6455 section 7.4.1).
enum CloseCode : uint16_t {
  kCloseNormal = 1000,
  kCloseGoingAway = 1001,
  kCloseProtocolError = 1002,
  kCloseNoStatus = 1005,  // never on the wire: "the close frame carried no code"
  kCloseInvalidData = 1007,
  kClosePolicyViolation = 1008,
  kCloseTooBig = 1009,
  kCloseInternalError = 1011,
  kCloseServiceRestart = 1012,  // the server is draining: reconnect at once (to another process)
  // Ours (4000-4999 are the application's; docs/protocol.md lists them).
  kCloseLoggedOut = 4001,  // the connection's session was logged out (DELETE /api/sessions)
  kCloseTooSlow = 4002,    // the peer fell more than --max-output bytes behind
  kCloseNoPong = 4003,     // the peer answered none of the last --ws-missed-pongs pings
};

constexpr size_t kMaxFrameHeader = 14;
constexpr size_t kMaxControlPayload = 125;

// Writes a frame header into `out` and returns its length (2 to 14 bytes). With a mask key the
// header says so and ends with the key; the payload must then be masked with MaskCopy.
size_t EncodeFrameHeader(Opcode opcode, uint64_t payload_len, bool fin, const uint8_t* mask_or_null,
                         uint8_t out[kMaxFrameHeader]);

// Copies len bytes from src to dst XORing them with the 4-byte mask key, starting `key_offset`
// bytes into the key's cycle (the count of payload bytes before src). dst may equal src.
void MaskCopy(char* dst, const char* src, size_t len, const uint8_t key[4], size_t key_offset);

// A whole frame, header and (masked if a key is given) payload.
std::string EncodeFrame(Opcode opcode, std::string_view payload, const uint8_t* mask_or_null = nullptr,
                        bool fin = true);

// A close frame with a code and a reason; the reason is cut at a character boundary to fit 123
// bytes. kCloseNoStatus yields an empty close frame.
std::string EncodeCloseFrame(uint16_t code, std::string_view reason, const uint8_t* mask_or_null = nullptr);

enum class Role {
  kServer,  // decodes client frames: they must be masked
  kClient,  // decodes server frames: they must not be
};

struct Event {
  enum class Type : uint8_t { kNone, kText, kBinary, kPing, kPong, kClose };
  Type type = Type::kNone;
  std::string_view payload;  // message or ping/pong data; for kClose the reason
  uint16_t close_code = 0;   // kClose only; kCloseNoStatus if the frame carried none
};

class FrameDecoder {
 public:
  static constexpr size_t kDefaultMaxMessage = 65536;

  explicit FrameDecoder(Role role, size_t max_message_bytes = kDefaultMaxMessage);
  FrameDecoder(const FrameDecoder&) = delete;
  FrameDecoder& operator=(const FrameDecoder&) = delete;

  // Consumes bytes until one event completes or the input runs out, and returns how many it took.
  // *event is set to the completed event, or to kNone. Call again with the rest of the input. Once
  // failed(), every byte is swallowed and no event is produced, so a plain loop always ends.
  size_t Feed(const char* data, size_t len, Event* event);

  bool failed() const { return error_code_ != 0; }
  uint16_t error_code() const { return error_code_; }  // the close code to send the peer
  std::string error_reason() const { return error_reason_; }

 private:
  size_t ReadHeader(const char* data, size_t len);
  bool CheckFirstTwoBytes();
  bool StartPayload();
  bool TakeWhole(const char* data, size_t len, Event* event);
  size_t ReadPayload(const char* data, size_t len);
  void FinishFrame(Event* event);
  void FinishClose(Event* event);
  void Fail(uint16_t code, const char* reason);

  // Small fields first and side by side, the wide ones after: a decoder lives as long as its
  // WebSocket, and most of a million WebSockets sit idle (128 bytes with malloc's header, not 160).
  const bool server_;
  // The frame being read.
  bool in_payload_ = false;
  bool fin_ = false;
  bool masked_ = false;
  uint8_t opcode_ = 0;
  uint8_t header_have_ = 0;
  uint8_t header_need_ = 2;  // grows once the first two bytes tell the length and mask sizes
  uint8_t mask_[4] = {};
  uint8_t header_[kMaxFrameHeader];
  // The data message being assembled, possibly over several frames.
  bool in_message_ = false;
  bool message_text_ = false;
  Utf8Validator utf8_;
  uint16_t error_code_ = 0;
  const uint32_t max_message_;  // at most 4 GiB (FrameDecoder clamps it)
  uint64_t payload_have_ = 0;
  uint64_t payload_len_ = 0;
  std::string message_;     // sized to the largest message so far; only message_len_ bytes are live
  size_t message_len_ = 0;

  // A control frame's payload, allocated at the first one that has any: most connections never
  // send one, and a decoder lives as long as its connection.
  std::unique_ptr<char[]> control_;

  const char* error_reason_ = "";  // always a string literal
};

}  // namespace chatpipe::ws
