#include "bench/loadgen/stamp.h"

#include <string.h>

#include <cstring>
#include <limits>


namespace chatpipe::bench {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Eight ASCII digits at p, or false (SWAR: no digit has a byte below '0' or above '9').
bool EightDigits(const char* p, uint64_t* value) {
  uint64_t v;
  std::memcpy(&v, p, 8);  // little-endian: the first digit is the low byte
  const uint64_t d = v - 0x3030303030303030ULL;
  if (((v + 0x4646464646464646ULL) | d) & 0x8080808080808080ULL) return false;
  uint64_t x = d * 10 + (d >> 8);  // pairs
  x = (((x & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
       (((x >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >> 32;
  *value = x;
  return true;
}

// Parses an unsigned decimal at the front of *s and the one separator after it. Eight digits at a
// time: a receiver parses five of these per delivery (a 19-digit time among them), and digit by
// digit with overflow checks they were a third of the generator's own time.
template <typename T>
bool Take(std::string_view* s, T* out, char sep) {
  constexpr size_t kMaxDigits = 19;  // any 19 digits fit in uint64_t; the range check is after
  const char* p = s->data();
  const size_t n = s->size();
  size_t i = 0;
  uint64_t value = 0, eight;
  while (i + 8 <= n && i + 8 <= 16 && EightDigits(p + i, &eight)) {
    value = value * 100'000'000 + eight;
    i += 8;
  }
  for (; i < n && IsDigit(p[i]); ++i) {
    if (i == kMaxDigits) return false;
    value = value * 10 + static_cast<uint64_t>(p[i] - '0');
  }
  if (i == 0 || value > static_cast<uint64_t>(std::numeric_limits<T>::max())) return false;
  *out = static_cast<T>(value);
  s->remove_prefix(i);
  if (sep) {
    if (s->empty() || s->front() != sep) return false;
    s->remove_prefix(1);
  }
  return true;
}

// The raw (still escaped) value of string key `key` ("\"text\":\""), up to its closing quote.
// memmem, not string_view::find: find stops at every '"' of the frame to compare the key there.
bool StringValue(std::string_view frame, std::string_view key, std::string_view* value) {
  const void* at = memmem(frame.data(), frame.size(), key.data(), key.size());
  if (!at) return false;
  frame.remove_prefix(static_cast<size_t>(static_cast<const char*>(at) - frame.data()) + key.size());
  size_t end = frame.find('"');
  if (end == std::string_view::npos) return false;
  *value = frame.substr(0, end);
  return true;
}

}  // namespace

std::string ClientMessageId(std::string_view run, const Stamp& s) {
  std::string id(run);
  id += '-' + std::to_string(s.proc) + '-' + std::to_string(s.conn) + '-' + std::to_string(s.seq);
  return id;
}

std::string StampText(std::string_view run, const Stamp& s, size_t min_bytes) {
  std::string text = "lg ";
  text += run;
  text += ' ' + std::to_string(s.proc) + ' ' + std::to_string(s.conn) + ' ' + std::to_string(s.seq) + ' ' +
          std::to_string(s.send_ns);
  if (text.size() + 1 < min_bytes) {
    text += ' ';
    text.append(min_bytes - text.size(), 'x');
  }
  return text;
}

FrameType TypeOf(std::string_view frame) {
  constexpr std::string_view kPrefix = "{\"type\":\"";
  if (frame.substr(0, kPrefix.size()) != kPrefix) return FrameType::kOther;
  frame.remove_prefix(kPrefix.size());
  auto is = [&](std::string_view t) { return frame.size() > t.size() && frame.substr(0, t.size()) == t && frame[t.size()] == '"'; };
  if (is("message")) return FrameType::kMessage;
  if (is("ack")) return FrameType::kAck;
  if (is("error")) return FrameType::kError;
  if (is("joined")) return FrameType::kJoined;
  if (is("presence")) return FrameType::kPresence;
  return FrameType::kOther;
}

bool ReadMessage(std::string_view frame, std::string_view run, int64_t* room, int64_t* pos, Stamp* stamp) {
  constexpr std::string_view kPrefix = "{\"type\":\"message\",\"room\":";
  if (frame.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string_view rest = frame.substr(kPrefix.size());
  if (!Take(&rest, room, ',') || rest.substr(0, 6) != "\"pos\":") return false;
  rest.remove_prefix(6);
  if (!Take(&rest, pos, ',')) return false;
  // The text follows the user object at once in chatpipe's frames (and the node peers'): one memchr
  // for its end instead of a search for the key, with the search as the fallback.
  constexpr std::string_view kTextAfterUser = "},\"text\":\"";
  if (const void* brace = memchr(rest.data(), '}', rest.size())) {
    std::string_view from = rest.substr(static_cast<size_t>(static_cast<const char*>(brace) - rest.data()));
    if (from.substr(0, kTextAfterUser.size()) == kTextAfterUser) {
      from.remove_prefix(kTextAfterUser.size());
      const void* quote = memchr(from.data(), '"', from.size());
      return quote && ParseStampText(from.substr(0, static_cast<size_t>(static_cast<const char*>(quote) - from.data())), run, stamp);
    }
  }
  return ReadTextStamp(rest, run, stamp);
}

bool ReadTextStamp(std::string_view json, std::string_view run, Stamp* stamp) {
  std::string_view text;
  return StringValue(json, "\"text\":\"", &text) && ParseStampText(text, run, stamp);
}

bool ParseStampText(std::string_view text, std::string_view run, Stamp* stamp) {
  if (text.substr(0, 3) != "lg " || text.substr(3, run.size()) != run || text.substr(3 + run.size(), 1) != " ")
    return false;
  text.remove_prefix(4 + run.size());
  return Take(&text, &stamp->proc, ' ') && Take(&text, &stamp->conn, ' ') && Take(&text, &stamp->seq, ' ') &&
         Take(&text, &stamp->send_ns, 0) && (text.empty() || text.front() == ' ');
}

bool ReadClientMessageId(std::string_view frame, std::string_view run, Stamp* stamp) {
  std::string_view id;
  if (!StringValue(frame, "\"client_msg_id\":\"", &id)) return false;
  if (id.substr(0, run.size()) != run || id.substr(run.size(), 1) != "-") return false;
  id.remove_prefix(run.size() + 1);
  return Take(&id, &stamp->proc, '-') && Take(&id, &stamp->conn, '-') && Take(&id, &stamp->seq, 0) && id.empty();
}

std::string_view ErrorCode(std::string_view frame) {
  std::string_view code;
  if (TypeOf(frame) != FrameType::kError || !StringValue(frame, "\"code\":\"", &code)) return {};
  return code;
}

std::string_view SocketIoEventPayload(std::string_view packet) {
  if (packet.substr(0, 4) != "42[\"" || packet.back() != ']') return {};
  // The event name is a JSON string without escapes here ("message", "ack", ...).
  const size_t quote = packet.find('"', 4);
  if (quote == std::string_view::npos || quote + 2 >= packet.size() || packet[quote + 1] != ',') return {};
  return packet.substr(quote + 2, packet.size() - quote - 3);
}

}  // namespace chatpipe::bench
