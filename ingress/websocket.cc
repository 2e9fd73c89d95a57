#include "ingress/websocket.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace chatpipe::ws {

namespace {

constexpr char kGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

Status Bad(std::string reason) { return Status::InvalidArgument("bad_upgrade", std::move(reason)); }

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// 16 bytes in base64 are 22 characters and "==".
bool IsValidKey(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  return std::all_of(key.begin(), key.begin() + 22, IsBase64Char);
}

bool IsControl(uint8_t opcode) { return opcode & 0x8; }

// Codes a peer may send (RFC 6455 section 7.4 and the IANA registry); the rest are protocol errors.
bool IsValidCloseCode(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

}  // namespace

std::string AcceptKey(std::string_view client_key) {
  std::string input(client_key);
  input += kGuid;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  EVP_Digest(input.data(), input.size(), digest, &digest_len, EVP_sha1(), nullptr);
  unsigned char encoded[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  const int encoded_len = EVP_EncodeBlock(encoded, digest, static_cast<int>(digest_len));
  return std::string(reinterpret_cast<char*>(encoded), encoded_len);
}

Status CheckUpgradeRequest(const http::Request& request) {
  if (request.method != "GET") return Bad("a WebSocket upgrade must be a GET");
  if (request.minor_version < 1) return Bad("a WebSocket upgrade needs HTTP/1.1");
  const std::string* upgrade = request.Header("Upgrade");
  if (upgrade == nullptr || !http::HeaderHasToken(*upgrade, "websocket")) return Bad("missing Upgrade: websocket");
  const std::string* connection = request.Header("Connection");
  if (connection == nullptr || !http::HeaderHasToken(*connection, "upgrade")) {
    return Bad("missing Connection: Upgrade");
  }
  const std::string* version = request.Header("Sec-WebSocket-Version");
  if (version == nullptr || *version != "13") {
    return Status::InvalidArgument("upgrade_required", "only Sec-WebSocket-Version 13 is supported");
  }
  const std::string* key = request.Header("Sec-WebSocket-Key");
  if (key == nullptr || !IsValidKey(*key)) return Bad("missing or malformed Sec-WebSocket-Key");
  return Status::Ok();
}

std::string UpgradeResponse(const http::Request& request, std::string_view extra_headers) {
  const std::string* key = request.Header("Sec-WebSocket-Key");
  return "HTTP/1.1 101 Switching Protocols\r\n"
         "Upgrade: websocket\r\n"
         "Connection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " +
         AcceptKey(key != nullptr ? std::string_view(*key) : std::string_view()) + "\r\n" +
         std::string(extra_headers) + "\r\n";
}

size_t EncodeFrameHeader(Opcode opcode, uint64_t payload_len, bool fin, const uint8_t* mask_or_null,
                         uint8_t out[kMaxFrameHeader]) {
  out[0] = static_cast<uint8_t>((fin ? 0x80 : 0) | static_cast<uint8_t>(opcode));
  const uint8_t mask_bit = mask_or_null != nullptr ? 0x80 : 0;
  size_t n;
  if (payload_len < 126) {
    out[1] = static_cast<uint8_t>(mask_bit | payload_len);
    n = 2;
  } else if (payload_len <= 0xFFFF) {
    out[1] = mask_bit | 126;
    out[2] = static_cast<uint8_t>(payload_len >> 8);
    out[3] = static_cast<uint8_t>(payload_len);
    n = 4;
  } else {
    out[1] = mask_bit | 127;
    for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<uint8_t>(payload_len >> (56 - 8 * i));
    n = 10;
  }
  if (mask_or_null != nullptr) {
    std::memcpy(out + n, mask_or_null, 4);
    n += 4;
  }
  return n;
}

void MaskCopy(char* dst, const char* src, size_t len, const uint8_t key[4], size_t key_offset) {
  // The key rotated to start at key_offset, twice over, so eight bytes take one XOR.
  uint8_t key8[8];
  for (size_t i = 0; i < 8; ++i) key8[i] = key[(key_offset + i) & 3];
  uint64_t key64;
  std::memcpy(&key64, key8, 8);
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t word;
    std::memcpy(&word, src + i, 8);
    word ^= key64;
    std::memcpy(dst + i, &word, 8);
  }
  for (; i < len; ++i) dst[i] = static_cast<char>(src[i] ^ key8[i & 7]);
}

std::string EncodeFrame(Opcode opcode, std::string_view payload, const uint8_t* mask_or_null, bool fin) {
  uint8_t header[kMaxFrameHeader];
  const size_t header_len = EncodeFrameHeader(opcode, payload.size(), fin, mask_or_null, header);
  std::string frame(header_len + payload.size(), '\0');
  std::memcpy(frame.data(), header, header_len);
  if (mask_or_null != nullptr) {
    MaskCopy(frame.data() + header_len, payload.data(), payload.size(), mask_or_null, 0);
  } else if (!payload.empty()) {
    std::memcpy(frame.data() + header_len, payload.data(), payload.size());
  }
  return frame;
}

std::string EncodeCloseFrame(uint16_t code, std::string_view reason, const uint8_t* mask_or_null) {
  if (code == kCloseNoStatus) return EncodeFrame(Opcode::kClose, {}, mask_or_null);
  size_t cut = std::min(reason.size(), kMaxControlPayload - 2);
  // Back up over continuation bytes so a multi-byte character is dropped whole, not split.
  if (cut < reason.size()) {
    while (cut > 0 && (static_cast<uint8_t>(reason[cut]) & 0xC0) == 0x80) --cut;
  }
  std::string payload;
  payload.reserve(2 + cut);
  payload += static_cast<char>(code >> 8);
  payload += static_cast<char>(code & 0xFF);
  payload.append(reason.substr(0, cut));
  return EncodeFrame(Opcode::kClose, payload, mask_or_null);
}

FrameDecoder::FrameDecoder(Role role, size_t max_message_bytes)
    : server_(role == Role::kServer),
      max_message_(static_cast<uint32_t>(std::min<size_t>(max_message_bytes, UINT32_MAX))) {}

size_t FrameDecoder::Feed(const char* data, size_t len, Event* event) {
  event->type = Event::Type::kNone;
  size_t used = 0;
  while (used < len && !failed()) {
    if (!in_payload_) {
      used += ReadHeader(data + used, len - used);
      if (failed() || header_have_ < header_need_ || !StartPayload()) continue;
      if (TakeWhole(data + used, len - used, event)) return used + payload_len_;
      if (failed()) continue;
    }
    // Runs even with no bytes left: a frame with an empty payload completes with its header.
    used += ReadPayload(data + used, len - used);
    if (!failed() && payload_have_ == payload_len_) {
      FinishFrame(event);
      if (event->type != Event::Type::kNone) return used;
    }
  }
  return failed() ? len : used;
}

size_t FrameDecoder::ReadHeader(const char* data, size_t len) {
  size_t used = 0;
  while (used < len && header_have_ < header_need_) {
    const size_t n = std::min(len - used, static_cast<size_t>(header_need_ - header_have_));
    std::memcpy(header_ + header_have_, data + used, n);
    header_have_ = static_cast<uint8_t>(header_have_ + n);
    used += n;
    // The first two bytes decide the rest of the header's size; check them before reading more.
    if (header_have_ == 2 && !CheckFirstTwoBytes()) break;
  }
  return used;
}

bool FrameDecoder::CheckFirstTwoBytes() {
  fin_ = header_[0] & 0x80;
  opcode_ = header_[0] & 0x0F;
  masked_ = header_[1] & 0x80;
  const uint8_t len7 = header_[1] & 0x7F;
  if (header_[0] & 0x70) {
    Fail(kCloseProtocolError, "reserved bits set");
  } else if (opcode_ > 0xA || (opcode_ > 0x2 && opcode_ < 0x8)) {
    Fail(kCloseProtocolError, "reserved opcode");
  } else if (IsControl(opcode_) && !fin_) {
    Fail(kCloseProtocolError, "fragmented control frame");
  } else if (IsControl(opcode_) && len7 > kMaxControlPayload) {
    Fail(kCloseProtocolError, "control frame over 125 bytes");
  } else if (opcode_ == 0 && !in_message_) {
    Fail(kCloseProtocolError, "continuation frame without a message");
  } else if ((opcode_ == 1 || opcode_ == 2) && in_message_) {
    Fail(kCloseProtocolError, "new message inside a fragmented message");
  } else if (masked_ != server_) {
    Fail(kCloseProtocolError, server_ ? "client frame not masked" : "server frame masked");
  }
  header_need_ = static_cast<uint8_t>(2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (masked_ ? 4 : 0));
  return !failed();
}

bool FrameDecoder::StartPayload() {
  const uint8_t len7 = header_[1] & 0x7F;
  size_t pos = 2;
  if (len7 == 126) {
    payload_len_ = static_cast<uint64_t>(header_[2]) << 8 | header_[3];
    pos = 4;
  } else if (len7 == 127) {
    payload_len_ = 0;
    for (int i = 0; i < 8; ++i) payload_len_ = payload_len_ << 8 | header_[2 + i];
    pos = 10;
    if (payload_len_ >> 63) {
      Fail(kCloseProtocolError, "64-bit length with the high bit set");
      return false;
    }
  } else {
    payload_len_ = len7;
  }
  if (masked_) std::memcpy(mask_, header_ + pos, 4);
  header_have_ = 0;
  header_need_ = 2;
  payload_have_ = 0;
  if (IsControl(opcode_)) {
    if (payload_len_ > 0 && !control_) control_ = std::make_unique<char[]>(kMaxControlPayload);
  } else {
    if (opcode_ != 0) {
      in_message_ = true;
      message_text_ = opcode_ == 1;
      message_len_ = 0;
      utf8_.Reset();
    }
    // Refuse from the header alone, before buffering a byte of an oversized message.
    if (payload_len_ > max_message_ - message_len_) {
      Fail(kCloseTooBig, "message too big");
      return false;
    }
    // Grow only, and never shrink: a warmed-up connection reuses the buffer without allocating.
    if (message_.size() < message_len_ + payload_len_) message_.resize(message_len_ + payload_len_);
  }
  in_payload_ = true;
  return true;
}

// A whole unmasked, unfragmented data frame already in the input (every server frame a client
// reads, as a rule) becomes an event pointing into the input: no copy into message_.
bool FrameDecoder::TakeWhole(const char* data, size_t len, Event* event) {
  if (masked_ || !fin_ || opcode_ == 0 || IsControl(opcode_) || len < payload_len_) return false;
  const std::string_view payload(data, payload_len_);
  if (message_text_) {
    Utf8Validator utf8;
    if (!utf8.Feed(payload)) Fail(kCloseInvalidData, "invalid UTF-8 in text message");
    else if (!utf8.Complete()) Fail(kCloseInvalidData, "text message ends inside a UTF-8 character");
    if (failed()) return false;
  }
  in_payload_ = false;
  in_message_ = false;
  *event = {message_text_ ? Event::Type::kText : Event::Type::kBinary, payload, 0};
  return true;
}

size_t FrameDecoder::ReadPayload(const char* data, size_t len) {
  const size_t n = static_cast<size_t>(std::min<uint64_t>(len, payload_len_ - payload_have_));
  const bool control = IsControl(opcode_);
  char* dst = control ? control_.get() + payload_have_ : message_.data() + message_len_;
  if (masked_) {
    MaskCopy(dst, data, n, mask_, payload_have_);
  } else if (n > 0) {
    std::memcpy(dst, data, n);
  }
  payload_have_ += n;
  if (!control) {
    message_len_ += n;
    if (message_text_ && !utf8_.Feed({dst, n})) Fail(kCloseInvalidData, "invalid UTF-8 in text message");
  }
  return n;
}

void FrameDecoder::FinishFrame(Event* event) {
  in_payload_ = false;
  const std::string_view control(control_.get(), IsControl(opcode_) ? payload_len_ : 0);
  switch (static_cast<Opcode>(opcode_)) {
    case Opcode::kClose:
      FinishClose(event);
      return;
    case Opcode::kPing:
      *event = {Event::Type::kPing, control, 0};
      return;
    case Opcode::kPong:
      *event = {Event::Type::kPong, control, 0};
      return;
    default:
      break;
  }
  if (!fin_) return;  // more fragments to come
  if (message_text_ && !utf8_.Complete()) {
    Fail(kCloseInvalidData, "text message ends inside a UTF-8 character");
    return;
  }
  in_message_ = false;
  *event = {message_text_ ? Event::Type::kText : Event::Type::kBinary, {message_.data(), message_len_}, 0};
}

void FrameDecoder::FinishClose(Event* event) {
  if (payload_len_ == 0) {
    *event = {Event::Type::kClose, {}, kCloseNoStatus};
    return;
  }
  if (payload_len_ == 1) {
    Fail(kCloseProtocolError, "close frame with a 1-byte payload");
    return;
  }
  const uint16_t code = static_cast<uint16_t>(static_cast<uint8_t>(control_[0]) << 8 | static_cast<uint8_t>(control_[1]));
  const std::string_view reason(control_.get() + 2, payload_len_ - 2);
  if (!IsValidCloseCode(code)) {
    Fail(kCloseProtocolError, "invalid close code");
  } else if (!IsValidUtf8(reason)) {
    Fail(kCloseInvalidData, "close reason is not UTF-8");
  } else {
    *event = {Event::Type::kClose, reason, code};
  }
}

void FrameDecoder::Fail(uint16_t code, const char* reason) {
  error_code_ = code;
  error_reason_ = reason;
}

}  // namespace chatpipe::ws
