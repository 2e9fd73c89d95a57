// Bad input through the real stack: each kind gets a clear 4xx (JSON body with code and reason) or an
// error frame / close code, the connection survives where the protocol allows, and the server keeps
// serving everyone else.
#include <gtest/gtest.h>

#include "common/utf8.h"
#include "tests/support/stack_test_base.h"

namespace chatpipe::test {
namespace {

class BadInputTest : public StackTest {
 protected:
  BadInputTest() : StackTest(Start::kIngress) {}

  void SetUp() override {
    StackTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(RegisterWithRoom("ana", "general", &ana, &room));
    messages = "/api/rooms/" + std::to_string(room) + "/messages";
  }

  // The response has `status` and a JSON error body with `code`.
  void ExpectError(const Result<HttpResponse>& r, long status, const std::string& code) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, status) << r->body;
    auto body = ParseJson(r->body);
    ASSERT_TRUE(body.ok()) << r->body;
    ASSERT_TRUE(body->doc.HasMember("error")) << r->body;
    EXPECT_EQ(std::string(body->doc["error"]["code"].GetString()), code) << r->body;
    EXPECT_GT(body->doc["error"]["reason"].GetStringLength(), 0u) << r->body;
  }

  std::unique_ptr<WsClient> Joined() {
    auto ws = stack->Connect(ana);
    EXPECT_TRUE(ws.ok());
    if (!ws.ok()) return nullptr;
    EXPECT_TRUE((*ws)->SendText("{\"type\":\"join\",\"room\":" + std::to_string(room) + "}").ok());
    EXPECT_TRUE(ReceiveType(**ws, "joined").ok());
    return std::move(*ws);
  }

  // The connection still works: a ping gets its pong.
  void ExpectAlive(WsClient& ws) {
    ASSERT_TRUE(ws.SendText("{\"type\":\"leave\",\"room\":999999}").ok());
    auto e = ReceiveType(ws, "error");
    ASSERT_TRUE(e.ok()) << e.status().ToString();
  }

  TestUser ana;
  int64_t room = 0;
  std::string messages;
};

TEST_F(BadInputTest, HttpBodiesAreValidated) {
  ExpectError(stack->Call("POST", messages, ana, "{\"text\":"), 400, "bad_json");
  ExpectError(stack->Call("POST", messages, ana, "[1,2]"), 400, "bad_json");
  ExpectError(stack->Call("POST", messages, ana, "{\"text\":\"hi\",\"user\":\"mallory\"}"), 400, "unknown_field");
  ExpectError(stack->Call("POST", messages, ana, "{\"text\":42}"), 400, "bad_field");
  ExpectError(stack->Call("POST", messages, ana, "{\"text\":\"\"}"), 400, "empty_text");
  ExpectError(stack->Call("POST", messages, ana, "{\"text\":\"  \\n\\t \"}"), 400, "empty_text");
  ExpectError(stack->Call("POST", messages, ana, "{\"text\":\"" + std::string(4001, 'x') + "\"}"), 400,
              "text_too_long");
  ExpectError(stack->Call("POST", messages, ana, "{\"text\":\"bad \xC3\x28 utf8\"}"), 400, "bad_json");
  // PostgreSQL cannot store U+0000: refused at intake, never acknowledged.
  ExpectError(stack->Call("POST", messages, ana, "{\"text\":\"nul \\u0000 inside\"}"), 400, "bad_field");
  ExpectError(stack->Call("POST", messages, ana, "{\"text\":\"" + std::string(70000, 'x') + "\"}"), 413, "too_large");
  // 4,000 characters is the limit, counted in characters, not bytes.
  std::string four_thousand;
  for (int i = 0; i < 4000; ++i) four_thousand += "\xC3\xA9";  // é
  auto ok = stack->Call("POST", messages, ana, "{\"text\":\"" + four_thousand + "\"}");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 202) << ok->body;
}

// At most 20 distinct users (--max-mentions) per message: more is refused at intake, over HTTP and
// WebSocket alike; repeats of a name and @room/@here do not count.
TEST_F(BadInputTest, MentionsPerMessageAreCapped) {
  std::string twenty = "@room @here";
  for (int k = 0; k < 20; ++k) twenty += " @u" + std::to_string(k) + " @U" + std::to_string(k);
  auto ok = stack->Call("POST", messages, ana, "{\"text\":\"" + twenty + "\"}");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 202) << ok->body;
  const std::string twenty_one = twenty + " @u20";
  ExpectError(stack->Call("POST", messages, ana, "{\"text\":\"" + twenty_one + "\"}"), 400, "too_many_mentions");
  auto ws = Joined();
  ASSERT_TRUE(ws);
  ASSERT_TRUE(ws->SendText("{\"type\":\"send\",\"room\":" + std::to_string(room) + ",\"text\":\"" + twenty_one +
                           "\",\"client_msg_id\":\"c-21\"}").ok());
  auto e = ReceiveType(*ws, "error");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_STREQ(e->doc["code"].GetString(), "too_many_mentions");
  EXPECT_STREQ(e->doc["client_msg_id"].GetString(), "c-21");
  ExpectAlive(*ws);
}

TEST_F(BadInputTest, RoomsAndTokensAreChecked) {
  ExpectError(stack->Call("POST", "/api/rooms/987654/messages", ana, "{\"text\":\"hi\"}"), 404, "unknown_room");
  ExpectError(stack->Call("GET", "/api/rooms/987654/messages", ana), 404, "unknown_room");
  ExpectError(stack->Call("GET", "/api/rooms/abc/messages", ana), 404, "not_found");
  ExpectError(stack->Call("POST", messages, TestUser{}, "{\"text\":\"hi\"}"), 401, "unauthorized");
  TestUser forged = ana;
  forged.token.back() = forged.token.back() == 'A' ? 'B' : 'A';
  ExpectError(stack->Call("POST", messages, forged, "{\"text\":\"hi\"}"), 401, "unauthorized");
  TestUser junk = ana;
  junk.token = "not-a-token";
  ExpectError(stack->Call("GET", "/api/rooms", junk), 401, "unauthorized");
  ExpectError(stack->Call("POST", "/api/sessions", TestUser{}, "{\"name\":\"ana\",\"password\":\"wrong\"}"), 401,
              "unauthorized");
  ExpectError(stack->Call("POST", "/api/users", TestUser{},
                          "{\"name\":\"ana\",\"email\":\"a@example.com\",\"password\":\"long enough\"}"),
              409, "name_taken");
  ExpectError(stack->Call("POST", "/api/users", TestUser{},
                          "{\"name\":\"Here\",\"email\":\"h@example.com\",\"password\":\"long enough\"}"),
              400, "bad_name");
  auto ws = WsClient::Connect("127.0.0.1", stack->port(), "/ws");
  ASSERT_FALSE(ws.ok());
  EXPECT_EQ(ws.status().code(), StatusCode::kUnauthenticated);
  ws = WsClient::Connect("127.0.0.1", stack->port(), "/ws?token=" + forged.token);
  ASSERT_FALSE(ws.ok());
  EXPECT_EQ(ws.status().code(), StatusCode::kUnauthenticated);
  ws = WsClient::Connect("127.0.0.1", stack->port(), "/ws?token=" + ana.token);
  EXPECT_TRUE(ws.ok()) << "the token in the query works too: " << ws.status().ToString();
}

// Found by machines: the fuzzers (tests/fuzz) and the API check (tests/api/run).
TEST_F(BadInputTest, WhatStorageOrJsonCannotHoldIsRefusedAndAnswersStayUtf8) {
  // rapidjson decodes an escaped lone surrogate to bytes that are not UTF-8; acknowledged, PostgreSQL
  // would have refused the message after the ack.
  ExpectError(stack->Call("POST", messages, ana, "{\"text\":\"caf\\udc00\"}"), 400, "bad_json");
  // An answer that quotes the path stays UTF-8 whatever bytes the path's escapes decode to.
  auto r = stack->Call("GET", "/api/%FFx", ana);
  ExpectError(r, 404, "not_found");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(IsValidUtf8(r->body)) << r->body;
  EXPECT_NE(r->body.find("\xEF\xBF\xBDx"), std::string::npos) << r->body;  // U+FFFD for the byte
}

TEST_F(BadInputTest, BadFramesGetErrorFramesAndTheConnectionSurvives) {
  auto ws = Joined();
  ASSERT_TRUE(ws);
  struct Case {
    std::string frame, code;
  };
  const std::vector<Case> cases = {
      {"{\"type\":", "bad_json"},
      {"{\"type\":\"dance\"}", "unknown_type"},
      {"{\"type\":\"send\",\"room\":" + std::to_string(room) + ",\"text\":\"\"}", "empty_text"},
      {"{\"type\":\"send\",\"room\":" + std::to_string(room) + ",\"text\":\"" + std::string(4001, 'y') + "\"}",
       "text_too_long"},
      {"{\"type\":\"send\",\"room\":" + std::to_string(room) + ",\"text\":\"hi\",\"as\":\"bea\"}", "unknown_field"},
      {"{\"type\":\"send\",\"room\":987654,\"text\":\"hi\"}", "not_joined"},
      {"{\"type\":\"join\",\"room\":987654}", "unknown_room"},
      {"{\"type\":\"join\",\"room\":\"general\"}", "bad_field"},
      {"{\"type\":\"send\",\"room\":" + std::to_string(room) + ",\"text\":\"nul \\u0000\"}", "bad_field"},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(ws->SendText(c.frame).ok());
    auto e = ReceiveType(*ws, "error");
    ASSERT_TRUE(e.ok()) << c.frame << ": " << e.status().ToString();
    EXPECT_EQ(std::string(e->doc["code"].GetString()), c.code) << c.frame << " -> " << e->text;
    EXPECT_GT(e->doc["reason"].GetStringLength(), 0u);
  }
  ASSERT_TRUE(ws->SendBinary("\x01\x02").ok());
  auto e = ReceiveType(*ws, "error");
  ASSERT_TRUE(e.ok());
  EXPECT_STREQ(e->doc["code"].GetString(), "binary_unsupported");
  // A refused send names the client_msg_id so the client can tell which one failed.
  ASSERT_TRUE(ws->SendText("{\"type\":\"send\",\"room\":" + std::to_string(room) +
                           ",\"text\":\"\",\"client_msg_id\":\"c-9\"}").ok());
  e = ReceiveType(*ws, "error");
  ASSERT_TRUE(e.ok());
  EXPECT_STREQ(e->doc["client_msg_id"].GetString(), "c-9");
  ExpectAlive(*ws);
}

TEST_F(BadInputTest, ProtocolViolationsCloseOnlyThatConnection) {
  auto bystander = Joined();
  ASSERT_TRUE(bystander);

  auto utf8 = Joined();
  ASSERT_TRUE(utf8);
  ASSERT_TRUE(utf8->SendText("{\"type\":\"leave\",\"room\":1,\"x\":\"\xC3\x28\"}").ok());
  EXPECT_EQ(ReceiveType(*utf8, "never").status().name(), "closed");
  EXPECT_EQ(utf8->close_code(), 1007);

  auto big = Joined();
  ASSERT_TRUE(big);
  ASSERT_TRUE(big->SendText(std::string(70000, ' ')).ok());
  EXPECT_EQ(ReceiveType(*big, "never").status().name(), "closed");
  EXPECT_EQ(big->close_code(), 1009);

  auto unmasked = Joined();
  ASSERT_TRUE(unmasked);
  ASSERT_TRUE(unmasked->SendRaw(std::string("\x81\x02hi", 4)).ok());  // clients must mask
  EXPECT_EQ(ReceiveType(*unmasked, "never").status().name(), "closed");
  EXPECT_EQ(unmasked->close_code(), 1002);

  ExpectAlive(*bystander);
}

}  // namespace
}  // namespace chatpipe::test
