#include "common/token.h"

#include <gtest/gtest.h>

namespace chatpipe {

TEST(Token, IssuedTokenVerifies) {
  TokenSigner signer("s3cret");
  std::string session = TokenSigner::NewSession();
  auto token = signer.Issue({12, "ana.maria", true, session}, 2000);
  auto user = signer.Verify(token, 1000);
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(user->id, 12);
  EXPECT_EQ(user->name, "ana.maria");
  EXPECT_TRUE(user->guest);
  EXPECT_EQ(user->session, session);
  EXPECT_EQ(user->expires, 2000);
}

TEST(Token, SessionsAreRandomHex) {
  std::string a = TokenSigner::NewSession(), b = TokenSigner::NewSession();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
}

TEST(Token, TokenWithoutSessionIsRefused) {
  TokenSigner signer("s");
  EXPECT_FALSE(signer.Verify(signer.Issue({1, "x", false, ""}, 2000), 1000).ok());
}

TEST(Token, SessionIdKeepsAtMostThirtyTwoDigitsInline) {
  const std::string digits = TokenSigner::NewSession();
  EXPECT_EQ(digits.size(), SessionId::kMaxSize);
  EXPECT_EQ(SessionId(digits), digits);
  EXPECT_EQ(SessionId(digits + "ff").view(), digits);
  EXPECT_TRUE(SessionId().empty());
}

TEST(Token, OtherSecretIsRefused) {
  auto token = TokenSigner("a").Issue({1, "x", false, "s1"}, 2000);
  auto user = TokenSigner("b").Verify(token, 1000);
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.status().code(), StatusCode::kUnauthenticated);
}

TEST(Token, ExpiredIsRefused) {
  TokenSigner signer("s");
  EXPECT_FALSE(signer.Verify(signer.Issue({1, "x", false, "s1"}, 999), 1000).ok());
}

TEST(Token, TamperedPayloadIsRefused) {
  TokenSigner signer("s");
  auto token = signer.Issue({1, "bob", false, "s1"}, 2000);
  auto forged = signer.Issue({2, "bob", false, "s1"}, 2000);
  // Splice the payload of one token onto the signature of another.
  auto mixed = forged.substr(0, forged.find('.')) + token.substr(token.find('.'));
  EXPECT_FALSE(signer.Verify(mixed, 1000).ok());
  EXPECT_FALSE(signer.Verify("", 1000).ok());
  EXPECT_FALSE(signer.Verify("abc", 1000).ok());
  EXPECT_FALSE(signer.Verify("abc.def", 1000).ok());
  EXPECT_FALSE(signer.Verify(token + "x", 1000).ok());
}

}  // namespace chatpipe
