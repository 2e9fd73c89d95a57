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

TEST(JsonInput, EscapedLoneSurrogatesAreRefusedAndPairsKept) {
  rapidjson::Document doc;
  // A lone high surrogate does not parse; a lone low one parses to bytes that are not UTF-8.
  EXPECT_EQ(ParseObject(R"({"text":"a\ud800b"})", {"text"}, &doc).name(), "bad_json");
  ASSERT_TRUE(ParseObject(R"({"text":"a\udc00b","name":"\ud83d\ude00\uffff\ufeff"})", {"text", "name"}, &doc).ok());
  auto text = StringField(doc, "text");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().name(), "bad_field");
  auto name = StringField(doc, "name");
  ASSERT_TRUE(name.ok()) << name.status().ToString();
  EXPECT_EQ(**name, "\xF0\x9F\x98\x80\xEF\xBF\xBF\xEF\xBB\xBF");
  // An unknown member's name is echoed as valid UTF-8.
  Status unknown = ParseObject(R"({"\udc00":1})", {"text"}, &doc);
  EXPECT_EQ(unknown.name(), "unknown_field");
  EXPECT_EQ(unknown.detail(), "unknown field \"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

}  // namespace
}  // namespace chatpipe
