#include "common/email_token.h"

#include <gtest/gtest.h>

#include "common/token.h"

namespace chatpipe {

TEST(EmailToken, IssuedTokenVerifiesForItsAddressInAnyCase) {
  EmailTokenSigner signer("s3cret");
  auto token = signer.Issue(12, "Bea@Example.org", 2000);
  EXPECT_TRUE(signer.Verify(token, "bea@example.org", 1000).ok());
  auto claim = EmailTokenSigner::Parse(token);
  ASSERT_TRUE(claim.ok());
  EXPECT_EQ(claim->user_id, 12);
  EXPECT_EQ(claim->expires, 2000);
}

TEST(EmailToken, OtherAddressSecretOrUserIsRefused) {
  EmailTokenSigner signer("s");
  auto token = signer.Issue(12, "bea@example.org", 2000);
  EXPECT_EQ(signer.Verify(token, "eve@example.org", 1000).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(EmailTokenSigner("t").Verify(token, "bea@example.org", 1000).code(), StatusCode::kUnauthenticated);
  std::string other_user = "e1.13" + token.substr(5);  // the same MAC for user 13
  EXPECT_EQ(signer.Verify(other_user, "bea@example.org", 1000).code(), StatusCode::kUnauthenticated);
}

TEST(EmailToken, ExpiredIsRefused) {
  EmailTokenSigner signer("s");
  Status s = signer.Verify(signer.Issue(1, "a@b", 999), "a@b", 1000);
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(s.detail().find("expired"), std::string::npos);
}

TEST(EmailToken, MalformedIsBadToken) {
  EmailTokenSigner signer("s");
  auto token = signer.Issue(1, "a@b", 2000);
  for (std::string bad : {std::string(), std::string("e1."), std::string("e1.1.2.abc"), token + "0",
                          token.substr(0, token.size() - 1), "e2" + token.substr(2), std::string(200, 'e')}) {
    Status s = signer.Verify(bad, "a@b", 1000);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(s.name(), "bad_token") << bad;
  }
}

TEST(EmailToken, SessionAndVerificationTokensAreNotInterchangeable) {
  TokenSigner sessions("s");
  EmailTokenSigner emails("s");
  auto session = sessions.Issue({1, "bea", false, TokenSigner::NewSession()}, 2000);
  EXPECT_FALSE(emails.Verify(session, "a@b", 1000).ok());
  EXPECT_FALSE(sessions.Verify(emails.Issue(1, "a@b", 2000), 1000).ok());
}

}  // namespace chatpipe
