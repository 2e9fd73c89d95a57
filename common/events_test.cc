#include "common/events.h"

#include <gtest/gtest.h>

namespace chatpipe {

ChatEvent SampleEvent() {
  ChatEvent e;
  e.id = 9223372036854775557ULL;  // above 2^53: must survive as a string (and a bigint)
  e.room = 42;
  e.user = {7, "ana"};
  e.text = "hola \"mundo\" \xc3\xb1 <b>";
  e.ts_ms = 1750000000123;
  e.client_msg_id = "c-1";
  return e;
}

TEST(Events, ChatEventRoundTrip) {
  auto json = EncodeChatEvent(SampleEvent());
  auto decoded = DecodeChatEvent(json);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->id, 9223372036854775557ULL);
  EXPECT_EQ(decoded->room, 42);
  EXPECT_EQ(decoded->user.id, 7);
  EXPECT_EQ(decoded->user.name, "ana");
  EXPECT_EQ(decoded->text, SampleEvent().text);
  EXPECT_EQ(decoded->ts_ms, 1750000000123);
  EXPECT_EQ(decoded->client_msg_id, "c-1");
  EXPECT_NE(json.find("\"id\":\"9223372036854775557\""), std::string::npos);
}

TEST(Events, MessageFrameStartsWithTypeRoomPos) {
  StoredMessage m{SampleEvent(), 17};
  auto json = EncodeMessageFrame(m);
  EXPECT_EQ(json.rfind("{\"type\":\"message\",\"room\":42,\"pos\":17,", 0), 0u) << json;
  auto back = DecodeMessageFrame(json);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->pos, 17);
  EXPECT_EQ(back->event.text, m.event.text);
}

TEST(Events, AnImageTravelsInTheEventAndItsFrameBeforeTheTags) {
  ChatEvent e = SampleEvent();
  e.image = R"({"url":"/api/rooms/42/objects/ab","width":640,"height":480})";
  e.tags = R"({"sentiment":"neutral"})";
  auto decoded = DecodeChatEvent(EncodeChatEvent(e));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->image, e.image);
  std::string frame = EncodeMessageFrame({e, 3});
  EXPECT_NE(frame.find(R"("kind":"image","image":{"url":"/api/rooms/42/objects/ab")"), std::string::npos) << frame;
  EXPECT_LT(frame.find("\"image\""), frame.find("\"tags\""));  // tags stay last (the tag worker's patch)
  auto back = DecodeMessageFrame(frame);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->event.image, e.image);
  // A text message's frame says nothing of kinds.
  EXPECT_EQ(EncodeMessageFrame({SampleEvent(), 3}).find("kind"), std::string::npos);
  std::string not_object = EncodeChatEvent(e);
  not_object.replace(not_object.find(R"("image":{)") + 8, 1, "[");
  EXPECT_FALSE(DecodeChatEvent(not_object).ok());
}

TEST(Events, RejectsMalformedEvents) {
  EXPECT_FALSE(DecodeChatEvent("not json").ok());
  EXPECT_FALSE(DecodeChatEvent("[]").ok());
  EXPECT_FALSE(DecodeChatEvent(R"({"v":2,"type":"message"})").ok());
  EXPECT_FALSE(DecodeChatEvent(R"({"v":1,"type":"message","id":12,"room":1})").ok());  // numeric id
  auto no_text = EncodeChatEvent(SampleEvent());
  no_text.replace(no_text.find("\"text\""), 6, "\"txet\"");
  EXPECT_FALSE(DecodeChatEvent(no_text).ok());
  ChatEvent bad_bytes = SampleEvent();
  bad_bytes.text = "ab\xC0\x80";  // an overlong NUL
  EXPECT_EQ(DecodeChatEvent(EncodeChatEvent(bad_bytes)).status().detail(), "not UTF-8");
  ChatEvent too_big = SampleEvent();
  too_big.id = uint64_t{1} << 63;  // a bigint's range ends one before
  EXPECT_FALSE(DecodeChatEvent(EncodeChatEvent(too_big)).ok());
  too_big.id = INT64_MAX;
  EXPECT_TRUE(DecodeChatEvent(EncodeChatEvent(too_big)).ok());
}

// Nesting is parsed on the heap, not the stack: 300,000 levels (300 KB, under Kafka's limit) overflowed
// a worker's 8 MiB stack with rapidjson's recursive parser. Refused, as any other malformed event.
TEST(Events, DeepNestingIsRefusedNotAStackOverflow) {
  const std::string deep = R"({"v":1,"type":"message","x":)" + std::string(300000, '[') + std::string(300000, ']') + "}";
  EXPECT_FALSE(DecodeChatEvent(deep).ok());
  EXPECT_FALSE(DecodePixelPlacements(deep).ok());
  EXPECT_FALSE(DecodeSpeechRequest(deep).ok());
}

TEST(Events, OmitsEmptyClientMessageId) {
  auto e = SampleEvent();
  e.client_msg_id.clear();
  EXPECT_EQ(EncodeChatEvent(e).find("client_msg_id"), std::string::npos);
}

TEST(Events, TagsTravelAsARawObjectAndComeLast) {
  auto e = SampleEvent();
  EXPECT_EQ(EncodeChatEvent(e).find("tags"), std::string::npos);
  EXPECT_TRUE(DecodeChatEvent(EncodeChatEvent(e))->tags.empty());

  e.tags = R"({"lang":"es","sentiment":{"label":"neutral","score":0},"profanity":{"flagged":false,"terms":[],"masked":"x"}})";
  auto json = EncodeChatEvent(e);
  EXPECT_NE(json.find(",\"tags\":" + e.tags + "}"), std::string::npos) << json;
  auto decoded = DecodeChatEvent(json);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->tags, e.tags);

  auto frame = EncodeMessageFrame({e, 3});
  EXPECT_EQ(frame.substr(frame.size() - e.tags.size() - 1), e.tags + "}") << frame;
  auto back = DecodeMessageFrame(frame);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->event.tags, e.tags);

  auto not_object = json;
  not_object.replace(not_object.find(e.tags), e.tags.size(), "\"x\"");
  EXPECT_FALSE(DecodeChatEvent(not_object).ok());
}

TEST(Events, AnEventWithoutItsTagsIsTheSameEventUntagged) {
  auto e = SampleEvent();
  const std::string untagged = EncodeChatEvent(e);
  e.tags = R"({"lang":"es","profanity":{"flagged":false}})";
  e.tagger_version = "0123456789ab";
  EXPECT_NE(EncodeChatEvent(e), untagged);
  EXPECT_EQ(EncodeChatEvent(e, /*with_tags=*/false), untagged);
}

TEST(Events, TaggerVersionTravelsInTheEventOnlyAndMayBeAbsent) {
  auto e = SampleEvent();
  EXPECT_EQ(EncodeChatEvent(e).find("tagger_version"), std::string::npos);
  EXPECT_TRUE(DecodeChatEvent(EncodeChatEvent(e))->tagger_version.empty());  // absent: unknown

  e.tags = R"({"lang":"es"})";
  e.tagger_version = "0123456789ab";
  auto decoded = DecodeChatEvent(EncodeChatEvent(e));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->tagger_version, "0123456789ab");
  EXPECT_EQ(decoded->tags, e.tags);
  EXPECT_EQ(EncodeMessageFrame({e, 3}).find("tagger_version"), std::string::npos);  // clients never see it

  auto json = EncodeChatEvent(e);
  json.replace(json.find("\"0123456789ab\""), 14, "12");
  EXPECT_FALSE(DecodeChatEvent(json).ok());
}

// Every reader of a frame's head (ReadFrameHead, FramePosition, and the Lua pattern, which
// storage/redis_scripts_test.cc runs in Redis) must read what EncodeMessageFrame writes.
TEST(Events, FrameHeadReadsWhatTheEncoderWrites) {
  StoredMessage tricky{SampleEvent(), 9007199254740993};  // above 2^53
  tricky.event.id = 9223372036854775807ULL;  // the largest id: a bigint
  tricky.event.room = 9223372036854775807;
  tricky.event.user.name = "a\",\"pos\":1,\"id\":\"2\"";  // a name that looks like a head
  tricky.event.text = ",\"pos\":5";
  for (const StoredMessage& m : {StoredMessage{SampleEvent(), 1}, tricky}) {
    std::string frame = EncodeMessageFrame(m);
    FrameHead head;
    ASSERT_TRUE(ReadFrameHead(frame, &head)) << frame;
    EXPECT_EQ(head.room, m.event.room);
    EXPECT_EQ(head.pos, m.pos);
    EXPECT_EQ(head.rest.substr(0, head.rest.find("\",")), std::string(kFrameIdKey) + std::to_string(m.event.id));
    EXPECT_EQ(FramePosition(frame), m.pos);
    auto decoded = DecodeMessageFrame(frame);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->pos, m.pos);
    EXPECT_EQ(decoded->event.id, m.event.id);
    EXPECT_EQ(decoded->event.user.name, m.event.user.name);
    EXPECT_EQ(decoded->event.text, m.event.text);
  }
}

TEST(Events, OtherFramesHaveNoPosition) {
  FrameHead head;
  EXPECT_FALSE(ReadFrameHead(R"({"type":"joined","room":1,"pos":3})", &head));
  EXPECT_EQ(FramePosition(R"({"type":"joined","room":1,"pos":3})"), 0);
  EXPECT_EQ(FramePosition(R"({"type":"presence","room":1,"joined":[],"left":[]})"), 0);
  EXPECT_EQ(FramePosition(R"({"type":"message","room":1,"id":"5","pos":3})"), 0);  // another key order
  EXPECT_EQ(FramePosition(R"({"type":"message","room":1,"pos":3})"), 0);  // no id after the position
  EXPECT_EQ(FramePosition(R"({"type":"message","room":)"), 0);
  EXPECT_EQ(FramePosition(""), 0);
}

TEST(Events, EncodingsAreByteForByteTheDocumentedOnes) {
  ChatEvent e = SampleEvent();
  e.tags = R"({"lang":"es"})";
  EXPECT_EQ(EncodeMessageFrame({e, 17}),
            R"({"type":"message","room":42,"pos":17,"id":"9223372036854775557","user":{"id":7,"name":"ana"},)"
            R"("text":"hola \"mundo\" ñ <b>","ts":1750000000123,"client_msg_id":"c-1","tags":{"lang":"es"}})");
  EXPECT_EQ(EncodeChatEvent(e),
            R"({"v":1,"type":"message","room":42,"id":"9223372036854775557","user":{"id":7,"name":"ana"},)"
            R"("text":"hola \"mundo\" ñ <b>","ts":1750000000123,"client_msg_id":"c-1","tags":{"lang":"es"}})");
}

TEST(Events, SpeechRequestIsTheDocumentedJsonAndRoundTrips) {
  SpeechRequest r{9223372036854775557ULL, 42, 7, 1750000000123};
  const std::string json = EncodeSpeechRequest(r);
  EXPECT_EQ(json, R"({"v":1,"type":"speech","message":"9223372036854775557","room":42,"user":7,"ts":1750000000123})");
  auto back = DecodeSpeechRequest(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->message, r.message);
  EXPECT_EQ(back->room, 42);
  EXPECT_EQ(back->user, 7);
  EXPECT_EQ(back->ts_ms, 1750000000123);
}

TEST(Events, RejectsMalformedSpeechRequests) {
  for (std::string_view bad : {
           R"({"v":1,"type":"speech","message":"5","room":1,"user":2})",            // no ts
           R"({"v":1,"type":"speech","message":5,"room":1,"user":2,"ts":3})",       // id as a number
           R"({"v":1,"type":"speech","message":"5x","room":1,"user":2,"ts":3})",
           R"({"v":1,"type":"speech","message":"0","room":1,"user":2,"ts":3})",
           R"({"v":1,"type":"speech","message":"5","room":"1","user":2,"ts":3})",
           R"({"v":2,"type":"speech","message":"5","room":1,"user":2,"ts":3})",
           R"({"v":1,"type":"message","message":"5","room":1,"user":2,"ts":3})",
           R"([1])", "", "\xff"}) {
    auto r = DecodeSpeechRequest(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().name(), "bad_event") << bad;
  }
  // A chat message is no speech request, nor the other way round.
  EXPECT_FALSE(DecodeSpeechRequest(EncodeChatEvent(SampleEvent())).ok());
  EXPECT_FALSE(DecodeChatEvent(EncodeSpeechRequest({5, 1, 2, 3})).ok());
}

TEST(Events, SpeechFrameIsTheDocumentedJson) {
  EXPECT_EQ(EncodeSpeechFrame({42, 9223372036854775557ULL, "/api/rooms/42/objects/ab", 2350}),
            R"({"type":"speech","room":42,"id":"9223372036854775557","url":"/api/rooms/42/objects/ab","duration_ms":2350})");
}

TEST(PixelsFrameTest, ReadsWhatTheWorkersScriptPublishesAndEncodesItBack) {
  const std::string text = R"({"type":"pixels","prev":1764810000041,"v":1764810000043,"pixels":[[1,2,3],[4,5,6]]})";
  PixelsFrame f;
  ASSERT_TRUE(ReadPixelsFrame(text, &f));
  EXPECT_EQ(f.prev, 1764810000041);
  EXPECT_EQ(f.v, 1764810000043);
  EXPECT_EQ(f.items, "[1,2,3],[4,5,6]");
  EXPECT_EQ(EncodePixelsFrame(f.prev, f.v, f.items), text);
}

TEST(PixelsFrameTest, RefusesEveryOtherText) {
  PixelsFrame f;
  for (const char* bad : {"", "{}", R"({"type":"message","room":1})", R"({"type":"pixels","prev":1,"v":2,"pixels":[])",
                          R"({"type":"pixels","prev":x,"v":2,"pixels":[]})", R"({"type":"pixels","prev":2,"v":2,"pixels":[]})",
                          R"({"type":"pixels","v":2,"prev":1,"pixels":[]})"})
    EXPECT_FALSE(ReadPixelsFrame(bad, &f)) << bad;
}

}  // namespace chatpipe
