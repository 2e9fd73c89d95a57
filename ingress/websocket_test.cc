#include "ingress/websocket.h"
#include "ingress/http_status.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace chatpipe::ws {
namespace {

using Type = Event::Type;

const uint8_t kMask[4] = {0x37, 0xfa, 0x21, 0x3d};  // the key of RFC 6455 section 5.7

std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s += static_cast<char>(b);
  return s;
}

// A client frame (masked), as a server receives it.
std::string ClientFrame(Opcode op, std::string_view payload, bool fin = true) {
  return EncodeFrame(op, payload, kMask, fin);
}

struct Got {
  Type type;
  std::string payload;
  uint16_t close_code;
  bool operator==(const Got&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Got& g) {
  return os << "{type " << static_cast<int>(g.type) << ", " << g.payload.size() << " bytes, code " << g.close_code
            << "}";
}

// Feeds `bytes` in pieces of at most `chunk` bytes and collects the events.
std::vector<Got> Decode(FrameDecoder* decoder, std::string_view bytes, size_t chunk) {
  std::vector<Got> events;
  while (!bytes.empty()) {
    std::string_view piece = bytes.substr(0, chunk);
    bytes.remove_prefix(piece.size());
    while (!piece.empty()) {
      Event ev;
      const size_t n = decoder->Feed(piece.data(), piece.size(), &ev);
      piece.remove_prefix(n);
      if (ev.type != Type::kNone) events.push_back({ev.type, std::string(ev.payload), ev.close_code});
    }
  }
  return events;
}

std::vector<Got> DecodeAll(Role role, std::string_view bytes, size_t chunk = SIZE_MAX,
                           size_t max_message = FrameDecoder::kDefaultMaxMessage) {
  FrameDecoder decoder(role, max_message);
  std::vector<Got> events = Decode(&decoder, bytes, chunk);
  EXPECT_FALSE(decoder.failed()) << decoder.error_code() << " " << decoder.error_reason();
  return events;
}

// Asserts that decoding `bytes` fails with close `code`, both in one piece and byte by byte.
void ExpectFailure(Role role, std::string_view bytes, uint16_t code, size_t max_message = FrameDecoder::kDefaultMaxMessage) {
  for (size_t chunk : {bytes.size(), size_t{1}}) {
    FrameDecoder decoder(role, max_message);
    std::vector<Got> events = Decode(&decoder, bytes, chunk);
    EXPECT_TRUE(decoder.failed()) << "chunk " << chunk;
    EXPECT_EQ(decoder.error_code(), code) << "chunk " << chunk << ": " << decoder.error_reason();
    EXPECT_FALSE(decoder.error_reason().empty());
    EXPECT_TRUE(events.empty()) << events.size();
  }
}

// --- Handshake ---

http::Request ParseUpgrade(const std::string& data) {
  http::Request request;
  size_t consumed;
  Status error;
  EXPECT_EQ(http::ParseRequest(data, http::Limits(), &request, &consumed, &error), http::ParseResult::kDone);
  return request;
}

const char kUpgrade[] =
    "GET /chat HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Origin: http://example.com\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  const size_t pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  return s.replace(pos, from.size(), to);
}

TEST(WebSocketHandshake, AcceptKeyOfRfcExample) {
  EXPECT_EQ(AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocketHandshake, AcceptsRfcRequest) {
  EXPECT_TRUE(CheckUpgradeRequest(ParseUpgrade(kUpgrade)).ok());
  // Header values are token lists and case-insensitive.
  std::string varied = Replace(kUpgrade, "Connection: Upgrade", "Connection: keep-alive, upgrade");
  varied = Replace(varied, "Upgrade: websocket", "Upgrade: WebSocket");
  EXPECT_TRUE(CheckUpgradeRequest(ParseUpgrade(varied)).ok());
}

TEST(WebSocketHandshake, BuildsSwitchingProtocolsResponse) {
  EXPECT_EQ(UpgradeResponse(ParseUpgrade(kUpgrade), ""),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
  EXPECT_EQ(UpgradeResponse(ParseUpgrade(kUpgrade), "X-Instance-Id: 0-42\r\n"),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "X-Instance-Id: 0-42\r\n\r\n");
}

TEST(WebSocketHandshake, RejectsBadUpgrades) {
  auto check = [](const std::string& data, int status) {
    Status s = CheckUpgradeRequest(ParseUpgrade(data));
    EXPECT_EQ(HttpStatusFor(s), status) << data << s.ToString();
  };
  check(Replace(kUpgrade, "GET", "POST"), 400);
  check(Replace(Replace(kUpgrade, "HTTP/1.1", "HTTP/1.0"), "Connection: Upgrade", "Connection: Upgrade, keep-alive"),
        400);
  check(Replace(kUpgrade, "Upgrade: websocket\r\n", ""), 400);
  check(Replace(kUpgrade, "Upgrade: websocket", "Upgrade: h2c"), 400);
  check(Replace(kUpgrade, "Connection: Upgrade", "Connection: keep-alive"), 400);
  check(Replace(kUpgrade, "Connection: Upgrade\r\n", ""), 400);
  check(Replace(kUpgrade, "Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"), 426);
  check(Replace(kUpgrade, "Sec-WebSocket-Version: 13\r\n", ""), 426);
  check(Replace(kUpgrade, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""), 400);
  check(Replace(kUpgrade, "dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ"), 400);      // no padding
  check(Replace(kUpgrade, "dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25j!Q=="), 400);    // not base64
  check(Replace(kUpgrade, "dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ=="
                                                      "AAAA"), 400);                         // 19 bytes
}

// --- Encoding ---

TEST(WebSocketEncode, RfcExamples) {
  EXPECT_EQ(EncodeFrame(Opcode::kText, "Hello"), Bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  EXPECT_EQ(EncodeFrame(Opcode::kText, "Hello", kMask),
            Bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  EXPECT_EQ(EncodeFrame(Opcode::kText, "Hel", nullptr, false), Bytes({0x01, 0x03, 0x48, 0x65, 0x6c}));
  EXPECT_EQ(EncodeFrame(Opcode::kContinuation, "lo"), Bytes({0x80, 0x02, 0x6c, 0x6f}));
  EXPECT_EQ(EncodeFrame(Opcode::kPing, "Hello"), Bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  EXPECT_EQ(EncodeFrame(Opcode::kPong, "Hello", kMask),
            Bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  EXPECT_EQ(EncodeFrame(Opcode::kBinary, std::string(256, 'x')).substr(0, 4), Bytes({0x82, 0x7E, 0x01, 0x00}));
  EXPECT_EQ(EncodeFrame(Opcode::kBinary, std::string(65536, 'x')).substr(0, 10),
            Bytes({0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}));
}

TEST(WebSocketEncode, HeaderSizesAtLengthBoundaries) {
  uint8_t out[kMaxFrameHeader];
  EXPECT_EQ(EncodeFrameHeader(Opcode::kText, 125, true, nullptr, out), 2u);
  EXPECT_EQ(out[1], 125);
  EXPECT_EQ(EncodeFrameHeader(Opcode::kText, 126, true, nullptr, out), 4u);
  EXPECT_EQ(out[1], 126);
  EXPECT_EQ(EncodeFrameHeader(Opcode::kText, 65535, true, nullptr, out), 4u);
  EXPECT_EQ(EncodeFrameHeader(Opcode::kText, 65536, true, nullptr, out), 10u);
  EXPECT_EQ(out[1], 127);
  EXPECT_EQ(EncodeFrameHeader(Opcode::kText, 65536, true, kMask, out), 14u);
  EXPECT_EQ(out[1], 0x80 | 127);
  EXPECT_EQ(out[10], 0x37);
  EXPECT_EQ(out[13], 0x3d);
  EXPECT_EQ(EncodeFrameHeader(Opcode::kBinary, 0x0102030405060708ULL, false, nullptr, out), 10u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(out), 10), Bytes({0x02, 0x7F, 1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(WebSocketEncode, MaskCopyInPiecesEqualsWhole) {
  std::string plain(1000, '\0');
  for (size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<char>(i * 7);
  std::string whole(plain.size(), '\0');
  MaskCopy(whole.data(), plain.data(), plain.size(), kMask, 0);
  for (size_t i = 0; i < plain.size(); ++i) {
    ASSERT_EQ(static_cast<uint8_t>(whole[i]), static_cast<uint8_t>(plain[i] ^ kMask[i % 4])) << i;
  }
  std::mt19937 rng(1);
  for (int iter = 0; iter < 100; ++iter) {
    std::string pieces = plain;  // masked in place, at random cut points
    for (size_t pos = 0; pos < pieces.size();) {
      const size_t n = std::min<size_t>(rng() % 20, pieces.size() - pos);
      MaskCopy(pieces.data() + pos, pieces.data() + pos, n, kMask, pos);
      pos += n;
    }
    ASSERT_EQ(pieces, whole);
  }
}

TEST(WebSocketEncode, CloseFrames) {
  EXPECT_EQ(EncodeCloseFrame(1000, "bye"), Bytes({0x88, 0x05, 0x03, 0xE8, 'b', 'y', 'e'}));
  EXPECT_EQ(EncodeCloseFrame(kCloseNoStatus, "ignored"), Bytes({0x88, 0x00}));
  // A long reason is cut to 123 bytes without splitting the two-byte characters.
  std::string reason = "ab";
  for (int i = 0; i < 100; ++i) reason += "\xC3\xA9";
  const std::string frame = EncodeCloseFrame(1008, reason);
  ASSERT_EQ(frame.size(), 2u + 2 + 122);
  EXPECT_TRUE(IsValidUtf8(frame.substr(4)));
  std::vector<Got> events = DecodeAll(Role::kClient, frame);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0], (Got{Type::kClose, reason.substr(0, 122), 1008}));
}

// --- Decoding ---

TEST(WebSocketDecode, RfcMaskedHello) {
  const std::string frame = Bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  FrameDecoder decoder(Role::kServer);
  Event ev;
  EXPECT_EQ(decoder.Feed(frame.data(), frame.size(), &ev), frame.size());
  EXPECT_EQ(ev.type, Type::kText);
  EXPECT_EQ(ev.payload, "Hello");
}

TEST(WebSocketDecode, RfcUnmaskedAndFragmentedHello) {
  EXPECT_EQ(DecodeAll(Role::kClient, Bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f})),
            (std::vector<Got>{{Type::kText, "Hello", 0}}));
  EXPECT_EQ(DecodeAll(Role::kClient, Bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f})),
            (std::vector<Got>{{Type::kText, "Hello", 0}}));
}

// A whole unmasked frame in the input is handed out in place; a frame cut in two is assembled.
TEST(WebSocketDecode, AWholeServerFrameIsReadInPlace) {
  const std::string two = EncodeFrame(Opcode::kText, "caf\xC3\xA9 one") + EncodeFrame(Opcode::kText, "two");
  FrameDecoder decoder(Role::kClient);
  Event ev;
  const size_t first = decoder.Feed(two.data(), two.size(), &ev);
  ASSERT_EQ(ev.type, Type::kText);
  EXPECT_EQ(ev.payload, "caf\xC3\xA9 one");
  EXPECT_EQ(ev.payload.data(), two.data() + 2);
  const std::string cut = two.substr(first, 3);
  EXPECT_EQ(decoder.Feed(cut.data(), cut.size(), &ev), 3u);
  EXPECT_EQ(ev.type, Type::kNone);
  const std::string rest = two.substr(first + 3);
  EXPECT_EQ(decoder.Feed(rest.data(), rest.size(), &ev), rest.size());
  ASSERT_EQ(ev.type, Type::kText);
  EXPECT_EQ(ev.payload, "two");
  EXPECT_FALSE(ev.payload.data() >= rest.data() && ev.payload.data() < rest.data() + rest.size());
}

TEST(WebSocketDecode, FeedStopsAfterEachEvent) {
  const std::string two = ClientFrame(Opcode::kText, "one") + ClientFrame(Opcode::kBinary, "two");
  FrameDecoder decoder(Role::kServer);
  Event ev;
  const size_t first = decoder.Feed(two.data(), two.size(), &ev);
  EXPECT_EQ(first, two.size() / 2);
  EXPECT_EQ(ev.type, Type::kText);
  EXPECT_EQ(ev.payload, "one");
  EXPECT_EQ(decoder.Feed(two.data() + first, two.size() - first, &ev), two.size() - first);
  EXPECT_EQ(ev.type, Type::kBinary);
  EXPECT_EQ(ev.payload, "two");
}

TEST(WebSocketDecode, ControlFramesBetweenFragments) {
  const std::string stream = ClientFrame(Opcode::kText, "Hel", false) + ClientFrame(Opcode::kPing, "p1") +
                             ClientFrame(Opcode::kContinuation, "lo, ", false) + ClientFrame(Opcode::kPong, "") +
                             ClientFrame(Opcode::kContinuation, "world") + ClientFrame(Opcode::kBinary, "\xFF\xFE");
  const std::vector<Got> expected = {
      {Type::kPing, "p1", 0}, {Type::kPong, "", 0}, {Type::kText, "Hello, world", 0}, {Type::kBinary, "\xFF\xFE", 0}};
  EXPECT_EQ(DecodeAll(Role::kServer, stream), expected);
  EXPECT_EQ(DecodeAll(Role::kServer, stream, 1), expected);
}

TEST(WebSocketDecode, SixteenAndSixtyFourBitLengths) {
  std::string medium(300, '\0'), large(70000, '\0');
  for (size_t i = 0; i < medium.size(); ++i) medium[i] = static_cast<char>(i);
  for (size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>('a' + i % 26);
  const std::string stream = ClientFrame(Opcode::kBinary, medium) + ClientFrame(Opcode::kText, large);
  ASSERT_EQ(static_cast<uint8_t>(stream[1]), 0x80 | 126);
  ASSERT_EQ(static_cast<uint8_t>(stream[2 + 2 + 4 + 300 + 1]), 0x80 | 127);
  const std::vector<Got> expected = {{Type::kBinary, medium, 0}, {Type::kText, large, 0}};
  EXPECT_EQ(DecodeAll(Role::kServer, stream, SIZE_MAX, 100000), expected);
  EXPECT_EQ(DecodeAll(Role::kServer, stream, 7, 100000), expected);
}

TEST(WebSocketDecode, EmptyMessagesAndCloseFrames) {
  const std::string stream = ClientFrame(Opcode::kText, "") + ClientFrame(Opcode::kBinary, "", false) +
                             ClientFrame(Opcode::kContinuation, "") + ClientFrame(Opcode::kPing, "") +
                             EncodeCloseFrame(kCloseNoStatus, "", kMask) + EncodeCloseFrame(4999, "b\xC3\xA9", kMask);
  const std::vector<Got> expected = {{Type::kText, "", 0},
                                     {Type::kBinary, "", 0},
                                     {Type::kPing, "", 0},
                                     {Type::kClose, "", kCloseNoStatus},
                                     {Type::kClose, "b\xC3\xA9", 4999}};
  EXPECT_EQ(DecodeAll(Role::kServer, stream), expected);
  EXPECT_EQ(DecodeAll(Role::kServer, stream, 1), expected);
}

TEST(WebSocketDecode, AcceptsValidCloseCodes) {
  for (uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000,
                        4999}) {
    EXPECT_EQ(DecodeAll(Role::kClient, EncodeCloseFrame(code, "r")), (std::vector<Got>{{Type::kClose, "r", code}}));
  }
}

TEST(WebSocketDecode, MessageExactlyAtLimitPasses) {
  const std::string stream = ClientFrame(Opcode::kBinary, std::string(60, 'a'), false) +
                             ClientFrame(Opcode::kContinuation, std::string(40, 'b'));
  std::vector<Got> events = DecodeAll(Role::kServer, stream, SIZE_MAX, 100);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].payload, std::string(60, 'a') + std::string(40, 'b'));
  events = DecodeAll(Role::kServer, ClientFrame(Opcode::kText, std::string(65536, 'x')));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].payload.size(), 65536u);
}

TEST(WebSocketDecode, BinaryNeedNotBeUtf8) {
  EXPECT_EQ(DecodeAll(Role::kServer, ClientFrame(Opcode::kBinary, "\xC0\xFF")),
            (std::vector<Got>{{Type::kBinary, "\xC0\xFF", 0}}));
}

TEST(WebSocketDecode, UtfCharacterMaySpanFragments) {
  EXPECT_EQ(DecodeAll(Role::kServer, ClientFrame(Opcode::kText, "\xE2\x82", false) +
                                         ClientFrame(Opcode::kContinuation, "\xAC")),
            (std::vector<Got>{{Type::kText, "\xE2\x82\xAC", 0}}));
}

// --- Errors and their close codes ---

TEST(WebSocketDecodeErrors, MaskingMustMatchRole) {
  ExpectFailure(Role::kServer, EncodeFrame(Opcode::kText, "hi"), kCloseProtocolError);
  ExpectFailure(Role::kClient, EncodeFrame(Opcode::kText, "hi", kMask), kCloseProtocolError);
}

TEST(WebSocketDecodeErrors, ReservedBits) {
  for (int bit : {0x40, 0x20, 0x10}) {
    std::string frame = ClientFrame(Opcode::kText, "hi");
    frame[0] = static_cast<char>(frame[0] | bit);
    ExpectFailure(Role::kServer, frame, kCloseProtocolError);
  }
}

TEST(WebSocketDecodeErrors, ReservedOpcodes) {
  for (int op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    ExpectFailure(Role::kServer, ClientFrame(static_cast<Opcode>(op), "x"), kCloseProtocolError);
  }
}

TEST(WebSocketDecodeErrors, BadControlFrames) {
  ExpectFailure(Role::kServer, ClientFrame(Opcode::kPing, "x", false), kCloseProtocolError);
  ExpectFailure(Role::kServer, ClientFrame(Opcode::kPing, std::string(126, 'x')), kCloseProtocolError);
  ExpectFailure(Role::kServer, ClientFrame(Opcode::kClose, std::string(1, '\x03')), kCloseProtocolError);
  for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535}) {
    ExpectFailure(Role::kServer, ClientFrame(Opcode::kClose, Bytes({code >> 8, code & 0xFF})), kCloseProtocolError);
  }
  ExpectFailure(Role::kServer, EncodeCloseFrame(1000, "\xC3", kMask), kCloseInvalidData);
  EXPECT_EQ(DecodeAll(Role::kServer, ClientFrame(Opcode::kPing, std::string(125, 'x'))).size(), 1u);
}

TEST(WebSocketDecodeErrors, BadFragmentation) {
  ExpectFailure(Role::kServer, ClientFrame(Opcode::kContinuation, "x"), kCloseProtocolError);
  ExpectFailure(Role::kServer, ClientFrame(Opcode::kText, "a", false) + ClientFrame(Opcode::kText, "b"),
                kCloseProtocolError);
  ExpectFailure(Role::kServer, ClientFrame(Opcode::kBinary, "a", false) + ClientFrame(Opcode::kBinary, "b"),
                kCloseProtocolError);
  // A finished message leaves nothing to continue.
  FrameDecoder decoder(Role::kServer);
  Decode(&decoder, ClientFrame(Opcode::kText, "a"), SIZE_MAX);
  Decode(&decoder, ClientFrame(Opcode::kContinuation, "b"), SIZE_MAX);
  EXPECT_EQ(decoder.error_code(), kCloseProtocolError);
}

TEST(WebSocketDecodeErrors, SixtyFourBitLengthWithHighBit) {
  ExpectFailure(Role::kClient, Bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1}), kCloseProtocolError);
}

TEST(WebSocketDecodeErrors, InvalidUtf8) {
  ExpectFailure(Role::kServer, ClientFrame(Opcode::kText, "ab\xC0\x80"), kCloseInvalidData);
  ExpectFailure(Role::kServer, ClientFrame(Opcode::kText, "\xED\xA0\x80"), kCloseInvalidData);  // surrogate
  ExpectFailure(Role::kServer, ClientFrame(Opcode::kText, "ab\xE2\x82"), kCloseInvalidData);    // cut short
  ExpectFailure(Role::kServer, ClientFrame(Opcode::kText, "\xE2\x82", false) + ClientFrame(Opcode::kContinuation, "x"),
                kCloseInvalidData);
}

// A client reads whole server frames straight from its input: the same checks apply there.
TEST(WebSocketDecodeErrors, InvalidUtf8InAWholeServerFrame) {
  ExpectFailure(Role::kClient, EncodeFrame(Opcode::kText, "ab\xC0\x80"), kCloseInvalidData);
  ExpectFailure(Role::kClient, EncodeFrame(Opcode::kText, std::string(40, 'a') + "\xED\xA0\x80"), kCloseInvalidData);
  ExpectFailure(Role::kClient, EncodeFrame(Opcode::kText, "ab\xE2\x82"), kCloseInvalidData);  // cut short
}

TEST(WebSocketDecodeErrors, InvalidUtf8FailsBeforeTheMessageEnds) {
  FrameDecoder decoder(Role::kServer);
  Decode(&decoder, ClientFrame(Opcode::kText, "ok\xFF", false), SIZE_MAX);
  EXPECT_EQ(decoder.error_code(), kCloseInvalidData);
}

TEST(WebSocketDecodeErrors, MessageTooBigIsRefusedFromTheHeader) {
  // Only the header of a 65537-byte frame: refused without waiting for (or buffering) the payload.
  uint8_t header[kMaxFrameHeader];
  const size_t n = EncodeFrameHeader(Opcode::kBinary, 65537, true, kMask, header);
  ExpectFailure(Role::kServer, std::string(reinterpret_cast<char*>(header), n), kCloseTooBig);
  const size_t huge = EncodeFrameHeader(Opcode::kText, 1ULL << 62, true, kMask, header);
  ExpectFailure(Role::kServer, std::string(reinterpret_cast<char*>(header), huge), kCloseTooBig);
  // The sum of fragments counts.
  ExpectFailure(Role::kServer,
                ClientFrame(Opcode::kText, std::string(60, 'a'), false) +
                    ClientFrame(Opcode::kContinuation, std::string(41, 'b')),
                kCloseTooBig, 100);
}

TEST(WebSocketDecodeErrors, ErrorIsSticky) {
  FrameDecoder decoder(Role::kServer);
  const std::string bad = EncodeFrame(Opcode::kText, "unmasked");
  Event ev;
  EXPECT_EQ(decoder.Feed(bad.data(), bad.size(), &ev), bad.size());
  EXPECT_EQ(ev.type, Type::kNone);
  ASSERT_TRUE(decoder.failed());
  const std::string good = ClientFrame(Opcode::kText, "fine");
  EXPECT_EQ(decoder.Feed(good.data(), good.size(), &ev), good.size());  // swallowed
  EXPECT_EQ(ev.type, Type::kNone);
  EXPECT_EQ(decoder.error_code(), kCloseProtocolError);
  EXPECT_EQ(decoder.error_reason(), "client frame not masked");
}

// --- Any split decodes the same ---

std::string RandomPayload(std::mt19937* rng, size_t len, bool text) {
  static const char* const kPieces[] = {"a", "Z", " ", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"};
  std::string s;
  while (s.size() < len) {
    if (text) {
      s += kPieces[(*rng)() % 6];
    } else {
      s += static_cast<char>((*rng)());
    }
  }
  if (!text) s.resize(len);
  return s;
}

TEST(WebSocketRoundTrip, RandomMessagesRandomSplits) {
  std::mt19937 rng(20240601);
  const size_t kSizes[] = {0, 1, 7, 8, 9, 125, 126, 127, 1000, 65535, 65536, 70000};
  for (int round = 0; round < 30; ++round) {
    std::string stream;
    std::vector<Got> expected;
    for (int m = 0; m < 20; ++m) {
      const bool text = rng() % 2;
      const std::string payload = RandomPayload(&rng, kSizes[rng() % std::size(kSizes)], text);
      // Cut into 1 to 4 fragments at random points inside characters too; pings may come between.
      std::vector<size_t> cuts = {0, payload.size()};
      for (int c = rng() % 4; c > 0; --c) cuts.push_back(payload.empty() ? 0 : rng() % payload.size());
      std::sort(cuts.begin(), cuts.end());
      for (size_t f = 0; f + 1 < cuts.size(); ++f) {
        const Opcode op = f == 0 ? (text ? Opcode::kText : Opcode::kBinary) : Opcode::kContinuation;
        const uint8_t mask[4] = {static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng()),
                                 static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng())};
        const bool last = f + 2 == cuts.size();
        stream += EncodeFrame(op, std::string_view(payload).substr(cuts[f], cuts[f + 1] - cuts[f]), mask, last);
        if (last) expected.push_back({text ? Type::kText : Type::kBinary, payload, 0});
        if (rng() % 3 == 0) {
          const std::string ping = RandomPayload(&rng, rng() % 126, false);
          stream += EncodeFrame(Opcode::kPing, ping, mask);
          expected.push_back({Type::kPing, ping, 0});
        }
      }
    }
    // One shot, byte by byte, and random pieces all agree.
    ASSERT_EQ(DecodeAll(Role::kServer, stream, SIZE_MAX, 100000), expected);
    ASSERT_EQ(DecodeAll(Role::kServer, stream, 1, 100000), expected);
    FrameDecoder decoder(Role::kServer, 100000);
    std::vector<Got> got;
    for (std::string_view rest = stream; !rest.empty();) {
      const size_t n = std::min<size_t>(rest.size(), rng() % 3000);
      for (Got& g : Decode(&decoder, rest.substr(0, n), n)) got.push_back(std::move(g));
      rest.remove_prefix(n);
    }
    ASSERT_FALSE(decoder.failed()) << decoder.error_reason();
    ASSERT_EQ(got, expected);
  }
}

}  // namespace
}  // namespace chatpipe::ws
