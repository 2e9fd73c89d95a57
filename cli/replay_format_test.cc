#include "cli/replay_format.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

const char* kEvent =
    R"({"v":1,"type":"message","room":3,"id":"42","user":{"id":7,"name":"ana"},"text":"hola, \"mundo\"\nbye",)"
    R"("ts":1796292000000,"tags":{"lang":"es","sentiment":{"label":"positive","score":0.5},)"
    R"("profanity":{"flagged":false,"terms":["a","b"],"masked":""}},"tagger_version":"abc"})";

TEST(ReplayFormat, FlattensNestedFieldsWithDotsInDocumentOrder) {
  rapidjson::Document doc;
  doc.Parse(R"({"a":1,"b":{"c":"x","d":{"e":null}},"f":[1,{"g":2}]})");
  std::vector<std::string> paths;
  std::string path;
  FlattenJson(doc, &path, [&](std::string_view p, const rapidjson::Value&) { paths.emplace_back(p); });
  EXPECT_EQ(path, "");
  EXPECT_EQ(paths, (std::vector<std::string>{"a", "b.c", "b.d.e", "f"}));
}

TEST(ReplayFormat, ScratchJsonParsesObjectsOnlyAndEventsBeyondItsBuffers) {
  ScratchJson json;
  EXPECT_EQ(json.Parse("[1]"), nullptr);
  EXPECT_EQ(json.Parse("{\"a\":"), nullptr);
  const std::string big = "{\"text\":\"" + std::string(100000, 'x') + "\"}";
  for (int i = 0; i < 3; ++i) {
    const rapidjson::Value* v = json.Parse(big);
    ASSERT_NE(v, nullptr);
    EXPECT_EQ((*v)["text"].GetStringLength(), 100000u);
    v = json.Parse(R"({"a":1})");
    ASSERT_NE(v, nullptr);
    EXPECT_EQ((*v)["a"].GetInt(), 1);
  }
}

TEST(ReplayFormat, QuotesOnlyFieldsThatNeedIt) {
  std::string out;
  AppendCsvField("plain", &out);
  out += '|';
  AppendCsvField("a,b", &out);
  out += '|';
  AppendCsvField("say \"hi\"", &out);
  out += '|';
  AppendCsvField("two\nlines", &out);
  EXPECT_EQ(out, "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"");
}

TEST(ReplayFormat, MessagesHaveTheirSchemasColumnsWhateverTheEventHolds) {
  EventFormatter f(ReplayFormat::kCsv, KnownCsvColumns("chat.messages"));
  std::string out = f.Start();
  ASSERT_TRUE(f.Append(kEvent, &out));
  ASSERT_TRUE(f.Append(R"({"v":1,"type":"message","room":3,"id":"43","user":{"id":8,"name":"bea"},"text":"x","ts":5})",
                       &out));
  // An image message, as EncodeChatEvent writes it: every field has a column.
  ASSERT_TRUE(f.Append(R"({"v":1,"type":"message","room":3,"id":"44","user":{"id":8,"name":"bea"},"text":"","ts":6,)"
                       R"("kind":"image","image":{"id":"u1","url":"/api/rooms/3/objects/ab","thumbnail_url":)"
                       R"("/api/rooms/3/objects/cd","width":640,"height":480,"bytes":1234,"type":"image/webp"}})",
                       &out));
  EXPECT_EQ(out,
            "v,type,room,id,user.id,user.name,text,ts,client_msg_id,tags.lang,tags.sentiment.label,"
            "tags.sentiment.score,tags.profanity.flagged,tags.profanity.level,tags.profanity.terms,"
            "tags.profanity.levels,tags.profanity.masked,tagger_version,kind,image.id,image.url,"
            "image.thumbnail_url,image.width,image.height,image.bytes,image.type\n"
            "1,message,3,42,7,ana,\"hola, \"\"mundo\"\"\nbye\",1796292000000,,es,positive,0.5,false,,"
            "\"[\"\"a\"\",\"\"b\"\"]\",,,abc,,,,,,,,\n"
            "1,message,3,43,8,bea,x,5,,,,,,,,,,,,,,,,,,\n"
            "1,message,3,44,8,bea,,6,,,,,,,,,,,image,u1,/api/rooms/3/objects/ab,/api/rooms/3/objects/cd,640,480,"
            "1234,image/webp\n");
  EXPECT_EQ(f.unplaced_fields(), 0);
}

TEST(ReplayFormat, AnUnknownTopicTakesTheFirstEventsColumnsAndCountsTheRest) {
  EventFormatter f(ReplayFormat::kCsv, KnownCsvColumns("chat.someday"));
  std::string out = f.Start();
  EXPECT_EQ(out, "");
  ASSERT_TRUE(f.Append(R"({"a":1,"b":{"c":true}})", &out));
  ASSERT_TRUE(f.Append(R"({"b":{"c":false},"z":3,"a":2})", &out));
  EXPECT_EQ(out, "a,b.c\n1,true\n2,false\n");
  EXPECT_EQ(f.unplaced_fields(), 1);
  EXPECT_FALSE(f.Append("not json", &out));
  EXPECT_FALSE(f.Append("[1,2]", &out));
}

TEST(ReplayFormat, JsonLinesAreTheEventsAsTheyAre) {
  EventFormatter f(ReplayFormat::kJsonl, KnownCsvColumns("chat.messages"));
  std::string out = f.Start();
  ASSERT_TRUE(f.Append(kEvent, &out));
  EXPECT_EQ(out, std::string(kEvent) + "\n");
  // Not one line: it would break the file's shape.
  EXPECT_FALSE(f.Append("{\"a\":\n1}", &out));
  EXPECT_FALSE(f.Append("", &out));
}

TEST(ReplayFormat, EveryKnownTopicHasColumns) {
  for (const char* topic : {"chat.messages", "chat.notify", "chat.deadletter"})
    EXPECT_FALSE(KnownCsvColumns(topic).empty()) << topic;
}

}  // namespace
}  // namespace chatpipe
