// Address verification through the whole stack: sign-up queues a verification e-mail, the mailer sends
// the link, mentions are e-mailed only once the link was followed; bad links are refused.
#include <gtest/gtest.h>

#include <regex>

#include "common/email_token.h"
#include "common/token.h"
#include "tests/support/stack_test_base.h"

namespace chatpipe::test {
namespace {

class EmailVerificationTest : public StackTest {
 protected:
  EmailVerificationTest() : StackTest(Start::kIngressAndPersister) {}

  // GET /api/users/verify?token=<token>: the status, and the error code when there is one.
  std::pair<long, std::string> Follow(const std::string& token) {
    auto r = HttpRequest("GET", stack->Url("/api/users/verify?token=" + token));
    if (!r.ok()) return {0, r.status().ToString()};
    auto body = ParseJson(r->body);
    std::string code;
    if (body.ok() && body->doc.IsObject() && body->doc.HasMember("error")) code = body->doc["error"]["code"].GetString();
    return {r->status, code};
  }

  bool Verified(const TestUser& u) {
    auto r = stack->pg().Exec("SELECT email_verified_at IS NOT NULL FROM users WHERE id = $1", {std::to_string(u.id)});
    return r.ok() && r->rows() == 1 && r->Bool(0, 0);
  }

  bool MeSaysVerified(const TestUser& u) {
    auto me = stack->Call("GET", "/api/users/me", u);
    EXPECT_TRUE(me.ok() && me->status == 200);
    auto body = ParseJson(me.ok() ? me->body : "");
    return body.ok() && body->doc["email_verified"].GetBool();
  }

  std::vector<SinkMail> MailsTo(SmtpSink* sink, const std::string& rcpt) {
    std::vector<SinkMail> out;
    for (auto& m : sink->Mails())
      if (m.rcpt == rcpt) out.push_back(m);
    return out;
  }
};

TEST_F(EmailVerificationTest, MentionsAreMailedOnlyAfterTheLinkIsFollowed) {
  auto sink = stack->StartSmtpSink();
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  ASSERT_TRUE(stack->StartWorkerProcess("mention").ok());
  ASSERT_TRUE(stack->StartWorkerProcess("mail", {"--smtp", (*sink)->url(), "--window-ms", "100", "--app-url",
                                                 stack->Url("")}).ok());
  auto ana = stack->Register("ana"), bea = stack->Register("bea", /*verified=*/false);
  ASSERT_TRUE(ana.ok() && bea.ok());
  EXPECT_FALSE(MeSaysVerified(*bea));
  auto room = stack->CreateRoom(*ana, "general");
  ASSERT_TRUE(room.ok());
  const std::string path = "/api/rooms/" + std::to_string(*room) + "/messages";

  // The verification e-mail arrives with its link.
  ASSERT_TRUE(WaitFor([&] { return !MailsTo(*sink, "bea@example.com").empty(); }, std::chrono::seconds(20)));
  SinkMail verify = MailsTo(*sink, "bea@example.com")[0];
  EXPECT_NE(verify.subject.find("Verify"), std::string::npos) << verify.subject;
  std::smatch link;
  const std::regex kLink("/api/users/verify\\?token=([A-Za-z0-9.]+)");
  ASSERT_TRUE(std::regex_search(verify.text, link, kLink)) << verify.text;
  EXPECT_NE(verify.text.find(stack->Url("/api/users/verify?token=")), std::string::npos) << verify.text;
  EXPECT_NE(verify.html.find(link.str(0)), std::string::npos);

  // Mentioned while unverified: the digest is dropped, and the sink got nothing but the link.
  auto post = stack->Call("POST", path, *ana, "{\"text\":\"@bea before\"}");
  ASSERT_TRUE(post.ok() && post->status == 202);
  auto digest_state = [&] {
    auto r = stack->pg().Exec(
        "SELECT state || ' ' || coalesce(last_error, '') FROM mail_outbox"
        " WHERE user_id = $1 AND template = 'mentions' ORDER BY id",
        {std::to_string(bea->id)});
    std::vector<std::string> out;
    for (int i = 0; r.ok() && i < r->rows(); ++i) out.emplace_back(r->Text(i, 0));
    return out;
  };
  ASSERT_TRUE(WaitFor([&] { return digest_state().size() == 1 && digest_state()[0].rfind("dropped", 0) == 0; },
                      std::chrono::seconds(20)));
  EXPECT_NE(digest_state()[0].find("Unverified"), std::string::npos) << digest_state()[0];
  EXPECT_EQ(MailsTo(*sink, "bea@example.com").size(), 1u);

  // The link verifies, and following it again changes nothing.
  EXPECT_EQ(Follow(link.str(1)), std::make_pair(200L, std::string()));
  EXPECT_TRUE(Verified(*bea));
  EXPECT_TRUE(MeSaysVerified(*bea));
  EXPECT_EQ(Follow(link.str(1)), std::make_pair(200L, std::string()));

  // Now a mention is e-mailed.
  post = stack->Call("POST", path, *ana, "{\"text\":\"@bea after\"}");
  ASSERT_TRUE(post.ok() && post->status == 202);
  ASSERT_TRUE(WaitFor([&] { return MailsTo(*sink, "bea@example.com").size() == 2; }, std::chrono::seconds(20)));
  SinkMail mention = MailsTo(*sink, "bea@example.com")[1];
  EXPECT_NE(mention.text.find("@bea after"), std::string::npos) << mention.text;
  EXPECT_EQ(mention.text.find("@bea before"), std::string::npos) << mention.text;
}

TEST_F(EmailVerificationTest, ForgedExpiredAndSessionTokensAreRefused) {
  auto bea = stack->Register("bea", /*verified=*/false);
  ASSERT_TRUE(bea.ok());
  // Sign-up queued exactly one verification e-mail; a guest, who has no address, none.
  auto guest = stack->Guest();
  ASSERT_TRUE(guest.ok());
  auto queued = stack->pg().Exec("SELECT user_id FROM mail_outbox WHERE template = 'verify'");
  ASSERT_TRUE(queued.ok());
  ASSERT_EQ(queued->rows(), 1);
  EXPECT_EQ(queued->Int(0, 0), bea->id);

  EmailTokenSigner signer(stack->token_secret());
  const int64_t now = time(nullptr);
  std::string good = signer.Issue(bea->id, "bea@example.com", now + 3600);
  std::string forged = good.substr(0, good.size() - 4) + (good.substr(good.size() - 4) == "0000" ? "1111" : "0000");
  const std::pair<long, std::string> bad_token{400, "bad_token"}, unauthorized{401, "unauthorized"};
  EXPECT_EQ(Follow(""), bad_token);
  EXPECT_EQ(Follow("nonsense"), bad_token);
  EXPECT_EQ(Follow(bea->token), bad_token);  // a session token is no verification token
  EXPECT_EQ(Follow(forged), unauthorized);
  EXPECT_EQ(Follow(signer.Issue(bea->id, "bea@example.com", now - 1)), unauthorized);   // expired
  EXPECT_EQ(Follow(signer.Issue(bea->id, "eve@example.com", now + 3600)), unauthorized);  // not her address
  EXPECT_EQ(Follow(signer.Issue(guest->id, "", now + 3600)), unauthorized);                // no address at all
  EXPECT_EQ(Follow(EmailTokenSigner("other secret").Issue(bea->id, "bea@example.com", now + 3600)), unauthorized);
  EXPECT_FALSE(Verified(*bea));
  // A verification token is no session token either.
  auto me = stack->Call("GET", "/api/users/me", TestUser{bea->id, "bea", good});
  ASSERT_TRUE(me.ok());
  EXPECT_EQ(me->status, 401);

  EXPECT_EQ(Follow(good), std::make_pair(200L, std::string()));
  EXPECT_TRUE(Verified(*bea));
}

// Anyone may send a link: an expired one is refused before Redis or PostgreSQL are asked, and the rest
// count against a per-address limit, since a well-formed forgery costs a database read.
TEST_F(EmailVerificationTest, LinksAreLimitedPerAddressAndAnExpiredOneCostsNothing) {
  stack->StopIngress();
  ASSERT_TRUE(stack->StartIngress([](IngressConfig& c) {
    c.limits.verify_links_per_address = ParseBucketSpec("2/1h").value_or(BucketSpec{});
  }).ok());
  auto bea = stack->Register("bea", /*verified=*/false);
  ASSERT_TRUE(bea.ok());
  EmailTokenSigner signer(stack->token_secret());
  const int64_t now = time(nullptr);
  const std::string expired = signer.Issue(bea->id, "bea@example.com", now - 1);
  const std::string forged = EmailTokenSigner("other secret").Issue(bea->id, "bea@example.com", now + 3600);
  const std::pair<long, std::string> unauthorized{401, "unauthorized"};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Follow(expired), unauthorized) << "an expired link takes no token";
  EXPECT_EQ(Follow(forged), unauthorized);
  EXPECT_EQ(Follow(forged), unauthorized);
  EXPECT_EQ(Follow(forged).first, 429) << "two links an hour from this address";
  EXPECT_EQ(Follow(signer.Issue(bea->id, "bea@example.com", now + 3600)).first, 429) << "a good one too, for now";
  EXPECT_EQ(Follow(expired), unauthorized) << "still refused for what it is, before the limit";
  EXPECT_FALSE(Verified(*bea));
}

// A user who lost the e-mail asks for another: it comes through the mailer with a working link, a
// few times an hour; a guest has no address, a verified user needs none.
TEST_F(EmailVerificationTest, TheLinkIsSentAgainOnRequestAFewTimesAnHour) {
  auto sink = stack->StartSmtpSink();
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  ASSERT_TRUE(stack->StartWorkerProcess("mail", {"--smtp", (*sink)->url(), "--window-ms", "100", "--app-url",
                                                 stack->Url("")}).ok());
  auto bea = stack->Register("bea", /*verified=*/false);
  ASSERT_TRUE(bea.ok());
  ASSERT_TRUE(WaitFor([&] { return MailsTo(*sink, "bea@example.com").size() == 1; }, std::chrono::seconds(20)));

  auto resend = [&](const TestUser& u) { return stack->Call("POST", "/api/users/verify/resend", u); };
  auto again = resend(*bea);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->status, 202) << again->body;
  auto body = ParseJson(again->body);
  ASSERT_TRUE(body.ok());
  EXPECT_STREQ(body->doc["email"].GetString(), "bea@example.com");
  ASSERT_TRUE(WaitFor([&] { return MailsTo(*sink, "bea@example.com").size() == 2; }, std::chrono::seconds(20)));
  SinkMail second = MailsTo(*sink, "bea@example.com")[1];
  std::smatch link;
  ASSERT_TRUE(std::regex_search(second.text, link, std::regex("/api/users/verify\\?token=([A-Za-z0-9.]+)")))
      << second.text;

  // Three an hour per user (the default): the fourth is refused and queues nothing.
  EXPECT_EQ(resend(*bea)->status, 202);
  EXPECT_EQ(resend(*bea)->status, 202);
  auto refused = resend(*bea);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 429) << refused->body;
  EXPECT_FALSE(refused->headers["retry-after"].empty());
  auto rows = stack->pg().Exec("SELECT count(*) FROM mail_outbox WHERE template = 'verify' AND user_id = $1",
                               {std::to_string(bea->id)});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->Int(0, 0), 4) << "the sign-up's and three resent";

  // The resent link verifies.
  EXPECT_EQ(Follow(link.str(1)), std::make_pair(200L, std::string()));
  EXPECT_TRUE(Verified(*bea));

  auto ana = stack->Register("ana");  // verified
  auto guest = stack->Guest();
  ASSERT_TRUE(ana.ok() && guest.ok());
  auto verified = resend(*ana);
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->status, 409) << verified->body;
  EXPECT_NE(verified->body.find("already_verified"), std::string::npos) << verified->body;
  auto no_email = resend(*guest);
  ASSERT_TRUE(no_email.ok());
  EXPECT_EQ(no_email->status, 400) << no_email->body;
  EXPECT_NE(no_email->body.find("no_email"), std::string::npos) << no_email->body;
  EXPECT_EQ(resend(TestUser{})->status, 401);
}

}  // namespace
}  // namespace chatpipe::test
