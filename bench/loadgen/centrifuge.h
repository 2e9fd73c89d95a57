// Centrifuge: the client side of the Centrifuge protocol v2 in JSON (Centrifugo's client protocol;
// bench/run's centrifugo and centrifugo-redis servers are Centrifugo v6.9.1), as much of it as the load
// generator needs, read without a JSON parser like the other peers' frames.
//
// Commands go one per WebSocket text frame: connect {"id":1,"connect":{}}, subscribe
// {"id":2,"subscribe":{"channel":"room:R"}}, publish {"id":N,"publish":{"channel":"room:R","data":D}}
// with N = kFirstPublishId + the message's seq, so a publish reply's id names the message it acks.
// ("room" is a namespace of Centrifugo's configuration: ':' is its namespace boundary.)
// The server answers each command with a reply of the same id ({"id":N,"publish":{}} once the broker
// took the publication, or {"id":N,"error":{"code":C,"message":".."}}), pushes publications as
// {"push":{"channel":"room:R","pub":{"data":D,"info":{..}}}}, and pings with an empty reply {} that
// the client answers with an empty command {}. One server frame may carry several replies, each on its
// own line (the centrifuge library's JSONDataEncoder joins them with '\n').
//
// The reader relies on the protocol's generated encoder (github.com/centrifugal/protocol,
// client.pb_cfjson.go): keys in declaration order (Reply: id, error, push, connect, subscribe, ...,
// publish; Push: id, channel, pub; Publication: data first), empty fields left out, no spaces, and a
// publication's data copied raw with its newlines dropped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace chatpipe::bench {

constexpr uint32_t kCentrifugeConnectId = 1;
constexpr uint32_t kCentrifugeSubscribeId = 2;
constexpr uint32_t kCentrifugeFirstPublishId = 3;

std::string CentrifugeChannel(int64_t room);  // "room:R"
std::string CentrifugeConnect();
std::string CentrifugeSubscribe(int64_t room);
// `data` must be one JSON value (the generator's own object).
std::string CentrifugePublish(uint32_t id, int64_t room, std::string_view data);

struct CentrifugeReply {
  enum class Kind : uint8_t {
    kPing,         // {}: answer with {}
    kConnect,      // the connect command succeeded
    kSubscribe,    // a subscribe command succeeded
    kPublish,      // a publish command succeeded: the ack
    kError,        // a command failed: error_code, error_message
    kPublication,  // a push of a publication: channel, data
    kOther,        // another reply or push (nothing the generator uses)
    kBad,          // not a reply of this protocol
  };
  Kind kind = Kind::kOther;
  uint32_t id = 0;                  // the command's id; 0 for pushes and pings
  uint32_t error_code = 0;
  std::string_view error_message;   // still JSON-escaped
  std::string_view channel;         // still JSON-escaped
  std::string_view data;            // the publication's data: exactly one JSON value
};

// One reply: a line of a server frame.
CentrifugeReply ReadCentrifugeReply(std::string_view reply);

// Takes the next reply off the front of a frame (the text up to '\n' or the end); "" once empty.
std::string_view NextCentrifugeReply(std::string_view* frame);

}  // namespace chatpipe::bench
