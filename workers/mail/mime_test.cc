#include "workers/mail/mime.h"

#include <gtest/gtest.h>

namespace chatpipe::mail {
namespace {

std::string Header(const std::string& msg, const std::string& name) {
  size_t at = msg.find("\r\n" + name + ": ");
  if (msg.rfind(name + ": ", 0) == 0) at = 0;
  else if (at == std::string::npos) return "";
  else at += 2;
  size_t start = at + name.size() + 2;
  return msg.substr(start, msg.find("\r\n", start) - start);
}

TEST(MimeTest, AddressValidation) {
  EXPECT_TRUE(ValidAddress("ana@example.org"));
  EXPECT_TRUE(ValidAddress("a.b+tag@sub.example.org"));
  EXPECT_FALSE(ValidAddress(""));
  EXPECT_FALSE(ValidAddress("no-at"));
  EXPECT_FALSE(ValidAddress("@example.org"));
  EXPECT_FALSE(ValidAddress("a@"));
  EXPECT_FALSE(ValidAddress("a@b@c"));
  EXPECT_FALSE(ValidAddress("a b@example.org"));
  EXPECT_FALSE(ValidAddress("a@example.org\r\nRCPT TO:<x@y>"));
  EXPECT_FALSE(ValidAddress("<a@example.org>"));
  EXPECT_FALSE(ValidAddress("a@.example.org"));
  EXPECT_FALSE(ValidAddress(std::string(250, 'a') + "@b.cd"));
}

TEST(MimeTest, HeaderTextEncodesUtf8InWholeCharacters) {
  EXPECT_EQ(EncodeHeaderText("plain subject"), "plain subject");
  EXPECT_EQ(EncodeHeaderText("a\r\nb"), "a  b");
  EXPECT_EQ(EncodeHeaderText("olá"), "=?UTF-8?B?b2zDoQ==?=");
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += "ção";  // 5 bytes each: words must split between characters
  std::string enc = EncodeHeaderText(long_text);
  size_t start = 0, words = 0;
  while (start < enc.size()) {
    size_t end = enc.find("\r\n ", start);
    std::string word = enc.substr(start, end == std::string::npos ? std::string::npos : end - start);
    EXPECT_LE(word.size(), 75u);
    EXPECT_EQ(word.rfind("=?UTF-8?B?", 0), 0u);
    ++words;
    if (end == std::string::npos) break;
    start = end + 3;
  }
  EXPECT_GT(words, 1u);
}

TEST(MimeTest, Base64LinesAndDate) {
  EXPECT_EQ(Base64Lines("hello"), "aGVsbG8=\r\n");
  EXPECT_EQ(Base64Lines(""), "");
  std::string lines = Base64Lines(std::string(100, 'x'));
  EXPECT_EQ(lines.find("\r\n"), 76u);
  EXPECT_EQ(RfcDate(1700000000000), "Tue, 14 Nov 2023 22:13:20 +0000");
}

TEST(MimeTest, ComposesMultipartAlternative) {
  Email e;
  e.from_name = "chat \"pipe\"";
  e.from_addr = "notify@example.org";
  e.to_addr = "bea@example.org";
  e.subject = "2 new mentions";
  e.text = "text part";
  e.html = "<p>html part</p>";
  e.message_id = "7.123@example.org";
  e.date_ms = 1700000000000;
  e.headers = {{"X-Chatpipe-Outbox", "7"}};
  std::string m = ComposeMessage(e);
  EXPECT_EQ(Header(m, "From"), "\"chat \\\"pipe\\\"\" <notify@example.org>");
  EXPECT_EQ(Header(m, "To"), "<bea@example.org>");
  EXPECT_EQ(Header(m, "Subject"), "2 new mentions");
  EXPECT_EQ(Header(m, "Message-ID"), "<7.123@example.org>");
  EXPECT_EQ(Header(m, "X-Chatpipe-Outbox"), "7");
  std::string ct = Header(m, "Content-Type");
  ASSERT_EQ(ct.rfind("multipart/alternative; boundary=\"", 0), 0u);
  std::string boundary = ct.substr(ct.find('"') + 1);
  boundary.pop_back();
  EXPECT_NE(m.find("--" + boundary + "\r\nContent-Type: text/plain; charset=UTF-8"), std::string::npos);
  EXPECT_NE(m.find("--" + boundary + "\r\nContent-Type: text/html; charset=UTF-8"), std::string::npos);
  EXPECT_NE(m.find(Base64Lines("text part")), std::string::npos);
  EXPECT_NE(m.find(Base64Lines("<p>html part</p>")), std::string::npos);
  EXPECT_NE(m.find("--" + boundary + "--\r\n"), std::string::npos);
  // Every line ends in CRLF: no bare LF for an SMTP server to choke on.
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\n') {
      ASSERT_TRUE(i > 0 && m[i - 1] == '\r') << "bare LF at " << i;
    }
  }
}

TEST(MimeTest, SinglePartWhenOnlyText) {
  Email e;
  e.from_addr = "n@example.org";
  e.to_addr = "b@example.org";
  e.subject = "s";
  e.text = "only text";
  e.message_id = "1.1@example.org";
  std::string m = ComposeMessage(e);
  EXPECT_EQ(Header(m, "From"), "<n@example.org>");
  EXPECT_EQ(Header(m, "Content-Type"), "text/plain; charset=UTF-8");
  EXPECT_EQ(m.find("multipart"), std::string::npos);
}

}  // namespace
}  // namespace chatpipe::mail
