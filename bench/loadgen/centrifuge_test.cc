#include "bench/loadgen/centrifuge.h"

#include <gtest/gtest.h>

#include <vector>

#include "bench/loadgen/stamp.h"

namespace chatpipe::bench {
namespace {

using Kind = CentrifugeReply::Kind;

// Replies as Centrifugo v6.9.1 (bench/run's configuration, memory and Redis engines) wrote them.
constexpr std::string_view kConnected =
    R"({"id":1,"connect":{"client":"e9d8f2b8-363c-44a8-a74e-a513f7eb8ed4","version":"6.9.1 OSS","ping":25,"pong":true}})";
constexpr std::string_view kPublication =
    R"({"push":{"channel":"room:1","pub":{"data":{"room":1,"text":"lg r1 3 1234 77 1700000000123456789","client_msg_id":"r1-3-1234-77"},"info":{"user":"","client":"e9d8f2b8-363c-44a8-a74e-a513f7eb8ed4"}}}})";
// The publisher's frame with the memory engine: the push, then the publish reply, one per line.
constexpr std::string_view kPushThenAck =
    R"({"push":{"channel":"room:1","pub":{"data":{"room":1,"text":"lg r1 3 1234 77 1700000000123456789","client_msg_id":"r1-3-1234-77"},"info":{"user":"","client":"e9d8f2b8-363c-44a8-a74e-a513f7eb8ed4"}}}})"
    "\n"
    R"({"id":3,"publish":{}})";

TEST(CentrifugeTest, CommandsAreTheProtocolsJson) {
  EXPECT_EQ(CentrifugeConnect(), R"({"id":1,"connect":{}})");
  EXPECT_EQ(CentrifugeSubscribe(42), R"({"id":2,"subscribe":{"channel":"room:42"}})");
  EXPECT_EQ(CentrifugePublish(7, 42, R"({"room":42,"text":"hi"})"),
            R"({"id":7,"publish":{"channel":"room:42","data":{"room":42,"text":"hi"}}})");
}

TEST(CentrifugeTest, RepliesToCommands) {
  CentrifugeReply r = ReadCentrifugeReply(kConnected);
  EXPECT_EQ(r.kind, Kind::kConnect);
  EXPECT_EQ(r.id, kCentrifugeConnectId);

  r = ReadCentrifugeReply(R"({"id":2,"subscribe":{}})");
  EXPECT_EQ(r.kind, Kind::kSubscribe);
  EXPECT_EQ(r.id, kCentrifugeSubscribeId);

  r = ReadCentrifugeReply(R"({"id":3,"publish":{}})");
  EXPECT_EQ(r.kind, Kind::kPublish);
  EXPECT_EQ(r.id, kCentrifugeFirstPublishId);

  r = ReadCentrifugeReply(R"({"id":4000000000,"publish":{}})");
  EXPECT_EQ(r.kind, Kind::kPublish);
  EXPECT_EQ(r.id, 4000000000u);

  // A channel outside every namespace the server knows (Centrifugo's configuration error).
  r = ReadCentrifugeReply(R"({"id":2,"error":{"code":102,"message":"unknown channel"}})");
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_EQ(r.id, kCentrifugeSubscribeId);
  EXPECT_EQ(r.error_code, 102u);
  EXPECT_EQ(r.error_message, "unknown channel");

  r = ReadCentrifugeReply(R"({"id":9,"error":{"code":103,"message":"permission \"denied\""}})");
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_EQ(r.id, 9u);
  EXPECT_EQ(r.error_code, 103u);
  EXPECT_EQ(r.error_message, R"(permission \"denied\")");

  r = ReadCentrifugeReply(R"({"id":9,"error":{"code":111,"message":"too many requests","temporary":true}})");
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_EQ(r.error_code, 111u);
  EXPECT_EQ(r.error_message, "too many requests");

  EXPECT_EQ(ReadCentrifugeReply(R"({"id":5,"history":{}})").kind, Kind::kOther);
  EXPECT_EQ(ReadCentrifugeReply(R"({"id":5,"error":{"code":108,"message":"not available"}})").kind, Kind::kError);
}

TEST(CentrifugeTest, AnEmptyReplyIsAPing) {
  EXPECT_EQ(ReadCentrifugeReply("{}").kind, Kind::kPing);
  EXPECT_EQ(ReadCentrifugeReply("{}").id, 0u);
}

TEST(CentrifugeTest, APublicationGivesItsChannelAndExactlyItsData) {
  CentrifugeReply r = ReadCentrifugeReply(kPublication);
  ASSERT_EQ(r.kind, Kind::kPublication);
  EXPECT_EQ(r.id, 0u);
  EXPECT_EQ(r.channel, "room:1");
  EXPECT_EQ(r.data, R"({"room":1,"text":"lg r1 3 1234 77 1700000000123456789","client_msg_id":"r1-3-1234-77"})");
  Stamp got;
  ASSERT_TRUE(ReadTextStamp(r.data, "r1", &got));
  EXPECT_EQ(got.proc, 3u);
  EXPECT_EQ(got.conn, 1234u);
  EXPECT_EQ(got.seq, 77u);
  EXPECT_EQ(got.send_ns, 1700000000123456789);
  EXPECT_FALSE(ReadTextStamp(r.data, "r2", &got));

  // Braces and quotes inside strings do not end the data early; a numeric channel id is skipped.
  r = ReadCentrifugeReply(R"({"push":{"id":3,"pub":{"data":{"a":"}\"{","b":[1,{"c":2}]},"offset":5}}})");
  ASSERT_EQ(r.kind, Kind::kPublication);
  EXPECT_EQ(r.channel, "");
  EXPECT_EQ(r.data, R"({"a":"}\"{","b":[1,{"c":2}]})");
  r = ReadCentrifugeReply(R"({"push":{"channel":"c","pub":{"data":17,"info":{"user":"","client":"x"}}}})");
  ASSERT_EQ(r.kind, Kind::kPublication);
  EXPECT_EQ(r.data, "17");
}

TEST(CentrifugeTest, OtherPushesAndBrokenRepliesAreToldApart) {
  EXPECT_EQ(ReadCentrifugeReply(R"({"push":{"channel":"room:1","join":{"info":{"user":"","client":"x"}}}})").kind,
            Kind::kOther);
  EXPECT_EQ(ReadCentrifugeReply(R"({"push":{"channel":"room:1","unsubscribe":{"code":2000}}})").kind, Kind::kOther);
  EXPECT_EQ(ReadCentrifugeReply("").kind, Kind::kBad);
  EXPECT_EQ(ReadCentrifugeReply("not json").kind, Kind::kBad);
  EXPECT_EQ(ReadCentrifugeReply(R"({"id":x,"publish":{}})").kind, Kind::kBad);
  EXPECT_EQ(ReadCentrifugeReply(R"({"push":{"channel":"room:1","pub":{"data":{"a":"unterminated)").kind, Kind::kBad);
  EXPECT_EQ(ReadCentrifugeReply(R"({"push":{"channel":"room:1)").kind, Kind::kBad);
}

TEST(CentrifugeTest, AFrameIsSplitIntoItsLines) {
  std::string_view publisher = kPushThenAck;
  const CentrifugeReply push = ReadCentrifugeReply(NextCentrifugeReply(&publisher));
  ASSERT_EQ(push.kind, Kind::kPublication);
  EXPECT_EQ(push.data, R"({"room":1,"text":"lg r1 3 1234 77 1700000000123456789","client_msg_id":"r1-3-1234-77"})");
  const CentrifugeReply ack = ReadCentrifugeReply(NextCentrifugeReply(&publisher));
  EXPECT_EQ(ack.kind, Kind::kPublish);
  EXPECT_EQ(ack.id, 3u);
  EXPECT_TRUE(publisher.empty());

  const std::string frame = std::string(kPublication) + "\n{\"id\":3,\"publish\":{}}\n{}";
  std::string_view rest = frame;
  std::vector<Kind> kinds;
  while (!rest.empty()) kinds.push_back(ReadCentrifugeReply(NextCentrifugeReply(&rest)).kind);
  EXPECT_EQ(kinds, (std::vector<Kind>{Kind::kPublication, Kind::kPublish, Kind::kPing}));
  std::string_view one = "{}";
  EXPECT_EQ(NextCentrifugeReply(&one), "{}");
  EXPECT_TRUE(one.empty());
}

}  // namespace
}  // namespace chatpipe::bench
