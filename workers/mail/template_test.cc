#include "workers/mail/template.h"

#include <gtest/gtest.h>

#include "workers/mail/sender.h"

namespace chatpipe::mail {
namespace {

rapidjson::Document Json(const char* text) {
  rapidjson::Document d;
  d.Parse(text);
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

TEST(TemplateTest, FillsPlaceholdersPerPart) {
  TemplateSet set;
  ASSERT_TRUE(set.Add("t", "Hi {{ user.name }}", "Text {{user.name}} {{n}}", "<b>{{user.name}}</b>").ok());
  auto r = set.Render("t", Json(R"({"user":{"name":"Ana <&> \"x\""},"n":3})"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->subject, "Hi Ana <&> \"x\"");
  EXPECT_EQ(r->text, "Text Ana <&> \"x\" 3");
  EXPECT_EQ(r->html, "<b>Ana &lt;&amp;&gt; &quot;x&quot;</b>");
}

TEST(TemplateTest, SubjectCannotGainALineBreak) {
  TemplateSet set;
  ASSERT_TRUE(set.Add("t", "Re: {{s}}", "x", "").ok());
  auto r = set.Render("t", Json(R"({"s":"a\r\nBcc: evil@example.com"})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->subject.find('\n'), std::string::npos);
  EXPECT_EQ(r->subject.find('\r'), std::string::npos);
  EXPECT_TRUE(r->html.empty());
}

TEST(TemplateTest, EachRepeatsWithInnerScopeFirst) {
  TemplateSet set;
  ASSERT_TRUE(set.Add("t", "s", "{{#each items}}[{{name}}/{{this.n}}/{{title}}]{{/each}}", "").ok());
  auto r = set.Render("t", Json(R"({"title":"T","name":"outer","items":[{"name":"a","n":1},{"name":"b","n":2}]})"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->text, "[a/1/T][b/2/T]");
  auto empty = set.Render("t", Json(R"({"title":"T","items":[]})"));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->text, "");
}

TEST(TemplateTest, MissingAttributeIsAnError) {
  TemplateSet set;
  ASSERT_TRUE(set.Add("t", "s", "{{a.b}}", "").ok());
  auto r = set.Render("t", Json(R"({"a":{}})"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().name(), "MessageRejected");
  EXPECT_NE(r.status().detail().find("a.b"), std::string::npos);
  EXPECT_FALSE(set.Render("t", Json(R"({"a":{"b":[1]}})")).ok());  // a list where text belongs
  EXPECT_EQ(set.Render("nope", Json("{}")).status().name(), "TemplateDoesNotExist");
}

TEST(TemplateTest, SyntaxErrorsAreRefusedAtLoad) {
  TemplateSet set;
  EXPECT_FALSE(set.Add("t", "s", "{{#each x}}never closed", "").ok());
  EXPECT_FALSE(set.Add("t", "s", "stray {{/each}}", "").ok());
  EXPECT_FALSE(set.Add("t", "s", "{{unclosed", "").ok());
  EXPECT_FALSE(set.Add("t", "s", "{{bad name}}", "").ok());
  EXPECT_FALSE(set.Add("t", "s", "{{{raw}}}", "").ok());
  EXPECT_FALSE(set.Add("t", "s", "", "").ok());  // neither part
  EXPECT_FALSE(set.Has("t"));
}

TEST(TemplateTest, ShippedMentionsTemplateRenders) {
  auto set = TemplateSet::LoadDir(CHATPIPE_MAIL_TEMPLATES_DIR);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  ASSERT_TRUE(set->Has("mentions"));
  auto r = set->Render("mentions", Json(R"({
    "user":{"id":1,"name":"bea","email":"bea@example.org"},"count":2,"count_text":"2 new mentions",
    "rooms_text":"#general","app_url":"http://chat.test",
    "mentions":[
      {"mention_id":1,"room":{"id":1,"name":"general"},"from":{"id":2,"name":"ana"},"text":"hi @bea <b>",
       "time":"2024-01-01 10:00 UTC","link":"http://chat.test/?room=1&pos=3"},
      {"mention_id":2,"room":{"id":1,"name":"general"},"from":{"id":3,"name":"cai"},"text":"@bea ping",
       "time":"2024-01-01 10:01 UTC","link":"http://chat.test/?room=1&pos=4"}]})"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->subject, "2 new mentions in #general");
  EXPECT_NE(r->text.find("hi @bea <b>"), std::string::npos);
  EXPECT_NE(r->text.find("@bea ping"), std::string::npos);
  EXPECT_NE(r->html.find("hi @bea &lt;b&gt;"), std::string::npos);
  EXPECT_NE(r->html.find("href=\"http://chat.test/?room=1&amp;pos=4\""), std::string::npos);
}

TEST(TemplateTest, ShippedVerifyTemplateRendersTheLinkAndNeedsIt) {
  auto set = TemplateSet::LoadDir(CHATPIPE_MAIL_TEMPLATES_DIR);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  DueMail m;
  m.user_id = 7;
  m.user_name = "bea";
  m.email = "bea@example.org";
  m.template_name = kVerifyTemplate;
  m.data = R"({"email":"bea@example.org","token":"e1.7.1700000000.)" + std::string(64, 'a') + R"("})";
  auto r = set->Render(kVerifyTemplate, VerifyTemplateData(m, "http://chat.test"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string link = "http://chat.test/api/users/verify?token=e1.7.1700000000." + std::string(64, 'a');
  EXPECT_NE(r->text.find(link), std::string::npos) << r->text;
  EXPECT_NE(r->text.find("2023-11-14 22:13 UTC"), std::string::npos) << r->text;
  EXPECT_NE(r->html.find("href=\"" + link + "\""), std::string::npos) << r->html;
  // Without a well-formed token there is no link to send: rendering fails, nothing goes out.
  m.data = R"({"email":"bea@example.org","token":"nonsense"})";
  EXPECT_FALSE(set->Render(kVerifyTemplate, VerifyTemplateData(m, "http://chat.test")).ok());
}

TEST(TemplateTest, LoadDirFailsClearly) {
  auto set = TemplateSet::LoadDir("/nonexistent/templates");
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().detail().find("/nonexistent/templates"), std::string::npos);
}

}  // namespace
}  // namespace chatpipe::mail
