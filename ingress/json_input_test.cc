// Client JSON is refused with the code a client sees, invalid UTF-8 included.
#include "ingress/json_input.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

TEST(JsonInput, AnObjectOfKnownMembersIsRead) {
  rapidjson::Document doc;
  ASSERT_TRUE(ParseObject(R"({"text":"ol\u00e1 caf\u00e9 \u00f1","client_msg_id":"c-1"})", {"text", "client_msg_id"}, &doc).ok());
  auto text = StringField(doc, "text");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(**text, "ol\xC3\xA1 caf\xC3\xA9 \xC3\xB1");
}

TEST(JsonInput, RefusalsSayWhy) {
  rapidjson::Document doc;
  EXPECT_EQ(ParseObject("{\"text\":\"ab\xC0\x80\"}", {"text"}, &doc).detail(), "the body is not valid UTF-8");
  EXPECT_EQ(ParseObject("{\"text\":\"\xED\xA0\x80\"}", {"text"}, &doc).name(), "bad_json");  // a surrogate
  EXPECT_EQ(ParseObject("{\"text\":\"ok\"", {"text"}, &doc).detail(), "the body is not valid JSON");
  EXPECT_EQ(ParseObject("[1]", {}, &doc).detail(), "expected a JSON object");
  EXPECT_EQ(ParseObject(R"({"txet":"x"})", {"text"}, &doc).name(), "unknown_field");
}

// rapidjson decodes "\udc00" to the bytes ED B0 80, which are not UTF-8 and which PostgreSQL refuses:
// found by tests/fuzz/json_input_fuzz (tests/fuzz/corpus/json_input_fuzz/lone_low_surrogate_*).
TEST(JsonInput, EscapedLoneSurrogatesAreRefusedInValuesAndNames) {
  rapidjson::Document doc;
  for (const char* body : {R"({"text":"a\udc00"})", R"({"text":"\udfff b"})", R"({"te\udc00xt":"x"})",
                           R"({"text":"\ud800"})", R"({"text":"\ud800\u0041"})"}) {
    Status s = ParseObject(body, {"text"}, &doc);
    EXPECT_EQ(s.name(), "bad_json") << body;
  }
  ASSERT_TRUE(ParseObject(R"({"text":"\ud83d\ude00"})", {"text"}, &doc).ok());  // a pair is one character
  EXPECT_EQ(**StringField(doc, "text"), "\xF0\x9F\x98\x80");
}

TEST(JsonInput, StringsHoldingUPlus0000AreRefusedAndOtherControlsKept) {
  rapidjson::Document doc;
  ASSERT_TRUE(ParseObject(R"({"text":"a\u0000b","name":"x\u0001\u001f\t\n"})", {"text", "name"}, &doc).ok());
  auto text = StringField(doc, "text");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().name(), "bad_field");
  EXPECT_EQ(text.status().detail(), "text must not contain U+0000 (NUL)");
  auto name = StringField(doc, "name");
  ASSERT_TRUE(name.ok()) << name.status().ToString();
  EXPECT_EQ(**name, std::string("x\x01\x1f\t\n"));
}

TEST(JsonInput, EscapedNoncharactersAndByteOrderMarksAreKept) {
  rapidjson::Document doc;
  ASSERT_TRUE(ParseObject(R"({"name":"\ud83d\ude00\uffff\ufeff"})", {"name"}, &doc).ok());
  auto name = StringField(doc, "name");
  ASSERT_TRUE(name.ok()) << name.status().ToString();
  EXPECT_EQ(**name, "\xF0\x9F\x98\x80\xEF\xBF\xBF\xEF\xBB\xBF");
}

}  // namespace
}  // namespace chatpipe
