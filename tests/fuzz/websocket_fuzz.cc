// Fuzzes the WebSocket frame decoder (ingress/websocket.h) in both roles. Beyond "no crash and no
// sanitizer report", what it checks could fail: the events must not depend on how the bytes were split
// (TCP splits them anywhere), a text message is valid UTF-8, no message is over the limit, a control
// payload fits 125 bytes, and every call makes progress, so a read loop always ends.
//
// Input: byte 0 picks the role and the message limit, byte 1 the chunk size of the split feed; the
// rest is the byte stream.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/utf8.h"
#include "ingress/websocket.h"

namespace chatpipe::ws {
namespace {

#define FUZZ_CHECK(cond) \
  if (!(cond)) __builtin_trap()

struct Decoded {
  std::vector<std::string> events;  // type, close code and payload of each event, in order
  uint16_t error_code = 0;
};

Decoded Decode(Role role, size_t max_message, const char* data, size_t size, size_t chunk) {
  FrameDecoder decoder(role, max_message);
  Decoded out;
  for (size_t pos = 0; pos < size; pos += chunk) {
    const char* p = data + pos;
    size_t left = std::min(chunk, size - pos);
    while (left > 0) {
      Event event;
      const size_t used = decoder.Feed(p, left, &event);
      FUZZ_CHECK(used <= left);
      FUZZ_CHECK(used > 0 || event.type != Event::Type::kNone);
      p += used;
      left -= used;
      if (event.type == Event::Type::kNone) continue;
      FUZZ_CHECK(!decoder.failed());
      switch (event.type) {
        case Event::Type::kText:
          FUZZ_CHECK(IsValidUtf8(event.payload));
          [[fallthrough]];
        case Event::Type::kBinary:
          FUZZ_CHECK(event.payload.size() <= max_message);
          break;
        case Event::Type::kPing:
        case Event::Type::kPong:
          FUZZ_CHECK(event.payload.size() <= kMaxControlPayload);
          break;
        case Event::Type::kClose:
          FUZZ_CHECK(event.payload.size() + 2 <= kMaxControlPayload || event.payload.empty());
          FUZZ_CHECK(IsValidUtf8(event.payload));
          break;
        case Event::Type::kNone:
          break;
      }
      out.events.push_back(std::to_string(static_cast<int>(event.type)) + "/" + std::to_string(event.close_code) +
                           "/" + std::string(event.payload));
    }
  }
  out.error_code = decoder.error_code();
  if (decoder.failed()) {
    FUZZ_CHECK(decoder.error_code() == kCloseProtocolError || decoder.error_code() == kCloseInvalidData ||
               decoder.error_code() == kCloseTooBig);
    FUZZ_CHECK(!decoder.error_reason().empty());
  }
  return out;
}

}  // namespace
}  // namespace chatpipe::ws

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chatpipe::ws;
  if (size < 2) return 0;
  const Role role = data[0] & 1 ? Role::kClient : Role::kServer;
  const size_t max_message = 1 + (data[0] >> 1) * 8;  // 1 to 1017 bytes: "too big" stays reachable
  const size_t chunk = 1 + data[1] % 64;
  const char* bytes = reinterpret_cast<const char*>(data + 2);
  const size_t len = size - 2;
  const Decoded whole = Decode(role, max_message, bytes, len, len == 0 ? 1 : len);
  const Decoded split = Decode(role, max_message, bytes, len, chunk);
  FUZZ_CHECK(whole.events == split.events);
  FUZZ_CHECK(whole.error_code == split.error_code);
  return 0;
}
