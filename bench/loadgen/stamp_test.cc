#include "bench/loadgen/stamp.h"

#include <gtest/gtest.h>

#include "common/events.h"

namespace chatpipe::bench {
namespace {

// The frame exactly as the server sends it, from the server's own encoder.
std::string ServerFrame(const std::string& text, const std::string& client_msg_id, int64_t room, int64_t pos) {
  StoredMessage m;
  m.event.id = 123456789012345;
  m.event.room = room;
  m.event.user = {42, "guest-\"quoted\" \"text\":\"lg run"};  // a name that looks like a stamp must not fool it
  m.event.text = text;
  m.event.ts_ms = 1700000000000;
  m.event.client_msg_id = client_msg_id;
  m.pos = pos;
  return EncodeMessageFrame(m);
}

TEST(StampTest, ReadsBackItsOwnStampFromTheServersMessageFrame) {
  Stamp sent{3, 1234, 77, 1700000000123456789};
  std::string frame = ServerFrame(StampText("r1", sent, 0), ClientMessageId("r1", sent), 9, 501);
  int64_t room = 0, pos = 0;
  Stamp got;
  ASSERT_TRUE(ReadMessage(frame, "r1", &room, &pos, &got)) << frame;
  EXPECT_EQ(room, 9);
  EXPECT_EQ(pos, 501);
  EXPECT_EQ(got.proc, 3u);
  EXPECT_EQ(got.conn, 1234u);
  EXPECT_EQ(got.seq, 77u);
  EXPECT_EQ(got.send_ns, 1700000000123456789);
  EXPECT_EQ(got.stream(), (uint64_t{3} << 32) | 1234);
  EXPECT_EQ(TypeOf(frame), FrameType::kMessage);
}

// A server that orders its keys otherwise: the text is searched for, not expected after the user.
TEST(StampTest, ReadsTheStampWhereverTheTextKeyIs) {
  Stamp sent{1, 2, 3, 1700000000000000000};
  const std::string frame = "{\"type\":\"message\",\"room\":5,\"pos\":6,\"user\":{\"id\":1},\"ts\":7,\"text\":\"" +
                            StampText("r2", sent, 0) + "\"}";
  int64_t room = 0, pos = 0;
  Stamp got;
  ASSERT_TRUE(ReadMessage(frame, "r2", &room, &pos, &got)) << frame;
  EXPECT_EQ(got.seq, 3u);
  EXPECT_EQ(got.send_ns, 1700000000000000000);
  EXPECT_FALSE(ReadMessage(frame, "r3", &room, &pos, &got)) << "another run's stamp";
}

TEST(StampTest, PaddingKeepsTheStampReadable) {
  Stamp sent{0, 1, 2, 3};
  std::string text = StampText("r1", sent, 200);
  EXPECT_GE(text.size(), 200u);
  int64_t room = 0, pos = 0;
  Stamp got;
  ASSERT_TRUE(ReadMessage(ServerFrame(text, "", 1, 1), "r1", &room, &pos, &got));
  EXPECT_EQ(got.send_ns, 3);
}

TEST(StampTest, OtherRunsAndOtherClientsAreNotOurs) {
  Stamp s{0, 1, 2, 3};
  int64_t room = 0, pos = 0;
  Stamp got;
  EXPECT_FALSE(ReadMessage(ServerFrame(StampText("r2", s, 0), "", 1, 1), "r1", &room, &pos, &got));
  EXPECT_FALSE(ReadMessage(ServerFrame(StampText("r11", s, 0), "", 1, 1), "r1", &room, &pos, &got));
  EXPECT_FALSE(ReadMessage(ServerFrame("hello lg r1 0 1 2 3", "", 1, 1), "r1", &room, &pos, &got));
  EXPECT_FALSE(ReadMessage(ServerFrame("lg r1 0 1 x 3", "", 1, 1), "r1", &room, &pos, &got));
}

// Numbers are parsed eight digits at a time: every length, and every way to be out of range.
TEST(StampTest, NumbersOfEveryLengthAndOutOfRange) {
  Stamp got;
  for (int digits = 1; digits <= 19; ++digits) {
    const std::string n = std::string(1, '1') + std::string(static_cast<size_t>(digits - 1), '7');
    ASSERT_TRUE(ParseStampText("lg r 1 2 3 " + n, "r", &got)) << n;
    EXPECT_EQ(got.send_ns, std::stoll(n)) << n;
  }
  ASSERT_TRUE(ParseStampText("lg r 4294967295 0 12345678 9223372036854775807", "r", &got));
  EXPECT_EQ(got.proc, 4294967295u);
  EXPECT_EQ(got.seq, 12345678u);
  EXPECT_EQ(got.send_ns, INT64_MAX);
  EXPECT_FALSE(ParseStampText("lg r 4294967296 0 1 1", "r", &got));            // past uint32
  EXPECT_FALSE(ParseStampText("lg r 1 0 1 9223372036854775808", "r", &got));  // past int64
  EXPECT_FALSE(ParseStampText("lg r 1 0 1 99999999999999999999", "r", &got)); // 20 digits
  EXPECT_FALSE(ParseStampText("lg r 1 0 1234x678 1", "r", &got));              // a non-digit inside eight
  EXPECT_FALSE(ParseStampText("lg r 1 0 1 17000000001234567:9", "r", &got));   // ':' just past '9'
  EXPECT_FALSE(ParseStampText("lg r 1 0 1 1700000000/234567", "r", &got));     // '/' just before '0'
}

TEST(StampTest, AcksAndErrorsAreMatchedByClientMessageId) {
  Stamp s{2, 5, 9, 0};
  std::string ack = R"({"type":"ack","room":4,"id":"99","ts":1,"client_msg_id":")" + ClientMessageId("r1", s) + "\"}";
  Stamp got;
  EXPECT_EQ(TypeOf(ack), FrameType::kAck);
  ASSERT_TRUE(ReadClientMessageId(ack, "r1", &got));
  EXPECT_EQ(got.proc, 2u);
  EXPECT_EQ(got.conn, 5u);
  EXPECT_EQ(got.seq, 9u);
  EXPECT_FALSE(ReadClientMessageId(ack, "r", &got));

  std::string error = R"({"type":"error","code":"busy","reason":"try again","client_msg_id":"r1-2-5-10"})";
  EXPECT_EQ(TypeOf(error), FrameType::kError);
  EXPECT_EQ(ErrorCode(error), "busy");
  ASSERT_TRUE(ReadClientMessageId(error, "r1", &got));
  EXPECT_EQ(got.seq, 10u);
  EXPECT_EQ(ErrorCode(ack), "");
}

TEST(StampTest, FrameTypes) {
  EXPECT_EQ(TypeOf(R"({"type":"joined","room":1,"pos":0})"), FrameType::kJoined);
  EXPECT_EQ(TypeOf(R"({"type":"presence","room":1})"), FrameType::kPresence);
  EXPECT_EQ(TypeOf(R"({"type":"messages"})"), FrameType::kOther);
  EXPECT_EQ(TypeOf("not json"), FrameType::kOther);
}

TEST(StampTest, ReadsAStampThroughASocketIoEvent) {
  Stamp sent{1, 2, 3, 1700000000123456789};
  std::string frame = ServerFrame(StampText("r1", sent, 0), ClientMessageId("r1", sent), 4, 5);
  const std::string packet = "42[\"message\"," + frame + "]";
  std::string_view payload = SocketIoEventPayload(packet);
  EXPECT_EQ(payload, frame);
  int64_t room = 0, pos = 0;
  Stamp got;
  ASSERT_TRUE(ReadMessage(payload, "r1", &room, &pos, &got));
  EXPECT_EQ(got.seq, 3u);
  EXPECT_EQ(SocketIoEventPayload("42[\"ack\",{\"type\":\"ack\"}]"), "{\"type\":\"ack\"}");
  EXPECT_EQ(SocketIoEventPayload("42[\"ping\"]"), "");
  EXPECT_EQ(SocketIoEventPayload("40{\"sid\":\"x\"}"), "");
  EXPECT_EQ(SocketIoEventPayload("42[\"message\",{}"), "");
  EXPECT_EQ(SocketIoEventPayload("2"), "");
}

}  // namespace
}  // namespace chatpipe::bench
