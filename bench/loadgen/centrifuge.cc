#include "bench/loadgen/centrifuge.h"

#include <charconv>

namespace chatpipe::bench {
namespace {

bool Consume(std::string_view* s, std::string_view prefix) {
  if (s->substr(0, prefix.size()) != prefix) return false;
  s->remove_prefix(prefix.size());
  return true;
}

template <typename T>
bool TakeUint(std::string_view* s, T* out) {
  auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), *out);
  if (ec != std::errc() || p == s->data()) return false;
  s->remove_prefix(static_cast<size_t>(p - s->data()));
  return true;
}

// The length of the JSON string at the front of s (quotes included), or npos.
size_t StringLength(std::string_view s) {
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '\\') ++i;
    else if (s[i] == '"') return i + 1;
  }
  return std::string_view::npos;
}

// The length of the JSON value at the front of s, or npos. The value is the server's own encoding
// (no spaces outside strings); only its extent matters here, not its validity.
size_t ValueLength(std::string_view s) {
  if (s.empty()) return std::string_view::npos;
  if (s[0] == '"') return StringLength(s);
  if (s[0] != '{' && s[0] != '[') {  // number, true, false, null
    const size_t end = s.find_first_of(",}]");
    return end == 0 ? std::string_view::npos : (end == std::string_view::npos ? s.size() : end);
  }
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    switch (s[i]) {
      case '"': {
        const size_t n = StringLength(s.substr(i));
        if (n == std::string_view::npos) return n;
        i += n - 1;
        break;
      }
      case '{':
      case '[':
        ++depth;
        break;
      case '}':
      case ']':
        if (--depth == 0) return i + 1;
        break;
      default:
        break;
    }
  }
  return std::string_view::npos;
}

// A JSON string value at the front of *s, returned without its quotes (still escaped).
bool TakeString(std::string_view* s, std::string_view* out) {
  if (s->empty() || s->front() != '"') return false;
  const size_t n = StringLength(*s);
  if (n == std::string_view::npos) return false;
  *out = s->substr(1, n - 2);
  s->remove_prefix(n);
  return true;
}

CentrifugeReply Push(std::string_view rest) {
  CentrifugeReply r;
  uint64_t channel_id = 0;  // a numeric channel id, only when the client asked for one
  if (Consume(&rest, "\"id\":") && !(TakeUint(&rest, &channel_id) && Consume(&rest, ","))) {
    r.kind = CentrifugeReply::Kind::kBad;
    return r;
  }
  if (Consume(&rest, "\"channel\":") && !(TakeString(&rest, &r.channel) && Consume(&rest, ","))) {
    r.kind = CentrifugeReply::Kind::kBad;
    return r;
  }
  if (!Consume(&rest, "\"pub\":{\"data\":")) return r;  // join, leave, unsubscribe, disconnect, ...
  const size_t n = ValueLength(rest);
  if (n == std::string_view::npos) {
    r.kind = CentrifugeReply::Kind::kBad;
    return r;
  }
  r.kind = CentrifugeReply::Kind::kPublication;
  r.data = rest.substr(0, n);
  return r;
}

}  // namespace

std::string CentrifugeChannel(int64_t room) { return "room:" + std::to_string(room); }

std::string CentrifugeConnect() { return "{\"id\":" + std::to_string(kCentrifugeConnectId) + ",\"connect\":{}}"; }

std::string CentrifugeSubscribe(int64_t room) {
  return "{\"id\":" + std::to_string(kCentrifugeSubscribeId) + ",\"subscribe\":{\"channel\":\"" +
         CentrifugeChannel(room) + "\"}}";
}

std::string CentrifugePublish(uint32_t id, int64_t room, std::string_view data) {
  std::string command = "{\"id\":" + std::to_string(id) + ",\"publish\":{\"channel\":\"" + CentrifugeChannel(room) +
                        "\",\"data\":";
  command += data;
  command += "}}";
  return command;
}

CentrifugeReply ReadCentrifugeReply(std::string_view reply) {
  CentrifugeReply r;
  using Kind = CentrifugeReply::Kind;
  if (reply == "{}") {
    r.kind = Kind::kPing;
    return r;
  }
  std::string_view rest = reply;
  if (!Consume(&rest, "{")) {
    r.kind = Kind::kBad;
    return r;
  }
  if (Consume(&rest, "\"push\":{")) return Push(rest);
  if (!Consume(&rest, "\"id\":") || !TakeUint(&rest, &r.id) || !Consume(&rest, ",")) {
    r.kind = Kind::kBad;
    return r;
  }
  if (Consume(&rest, "\"error\":{")) {
    r.kind = Kind::kError;
    if (Consume(&rest, "\"code\":")) {
      if (!TakeUint(&rest, &r.error_code)) {
        r.kind = Kind::kBad;
        return r;
      }
      Consume(&rest, ",");
    }
    if (Consume(&rest, "\"message\":")) TakeString(&rest, &r.error_message);
    return r;
  }
  if (Consume(&rest, "\"connect\":")) r.kind = Kind::kConnect;
  else if (Consume(&rest, "\"subscribe\":")) r.kind = Kind::kSubscribe;
  else if (Consume(&rest, "\"publish\":")) r.kind = Kind::kPublish;
  return r;
}

std::string_view NextCentrifugeReply(std::string_view* frame) {
  const size_t end = frame->find('\n');
  std::string_view reply = frame->substr(0, end);
  frame->remove_prefix(end == std::string_view::npos ? frame->size() : end + 1);
  return reply;
}

}  // namespace chatpipe::bench
