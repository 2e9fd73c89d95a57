#include "ingress/web_security.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

http::Request Upgrade(const std::string& host, const char* origin) {
  http::Request r;
  r.method = "GET";
  r.path = "/ws";
  r.headers.push_back({"Host", host});
  if (origin) r.headers.push_back({"Origin", origin});
  return r;
}

TEST(OriginAllowed, NoOriginIsNotABrowserAndPasses) {
  EXPECT_TRUE(OriginAllowed(Upgrade("chat.example.com", nullptr), {}));
}

TEST(OriginAllowed, TheServedOriginPassesOverHttpAndHttps) {
  EXPECT_TRUE(OriginAllowed(Upgrade("127.0.0.1:8080", "http://127.0.0.1:8080"), {}));
  EXPECT_TRUE(OriginAllowed(Upgrade("Chat.Example.com", "https://chat.example.com"), {}));
  EXPECT_TRUE(OriginAllowed(Upgrade("chat.example.com", "https://chat.example.com/"), {}));
}

TEST(OriginAllowed, ForeignOriginsAreRefused) {
  EXPECT_FALSE(OriginAllowed(Upgrade("chat.example.com", "https://evil.example"), {}));
  EXPECT_FALSE(OriginAllowed(Upgrade("127.0.0.1:8080", "http://127.0.0.1:8081"), {}));
  EXPECT_FALSE(OriginAllowed(Upgrade("127.0.0.1:8080", "http://127.0.0.1"), {}));
  EXPECT_FALSE(OriginAllowed(Upgrade("chat.example.com", "null"), {}));
  EXPECT_FALSE(OriginAllowed(Upgrade("chat.example.com", "ftp://chat.example.com"), {}));
  EXPECT_FALSE(OriginAllowed(Upgrade("chat.example.com", "https://chat.example.com.evil.example"), {}));
  EXPECT_FALSE(OriginAllowed(Upgrade("chat.example.com", ""), {}));
}

TEST(OriginAllowed, TheListAddsOrigins) {
  std::vector<std::string> allowed = {"https://app.example.com", "http://localhost:5173/"};
  EXPECT_TRUE(OriginAllowed(Upgrade("api.example.com", "https://APP.example.com"), allowed));
  EXPECT_TRUE(OriginAllowed(Upgrade("api.example.com", "http://localhost:5173"), allowed));
  EXPECT_TRUE(OriginAllowed(Upgrade("api.example.com", "https://api.example.com"), allowed));
  EXPECT_FALSE(OriginAllowed(Upgrade("api.example.com", "https://evil.example"), allowed));
}

TEST(OriginAllowed, AHostThatIsNotPlainMatchesNothing) {
  EXPECT_FALSE(OriginAllowed(Upgrade("a b", "http://a b"), {}));
  EXPECT_FALSE(IsPlainHost("x\r\nSet-Cookie: a=b"));
  EXPECT_FALSE(IsPlainHost(""));
  EXPECT_TRUE(IsPlainHost("[::1]:8080"));
}

TEST(PagePolicy, NamesTheWebSocketOfTheHostAndAllowsNothingInline) {
  std::string p = PagePolicy(Upgrade("127.0.0.1:8080", nullptr));
  EXPECT_EQ(p.rfind("Content-Security-Policy: ", 0), 0u);
  EXPECT_NE(p.find("script-src 'self';"), std::string::npos);
  EXPECT_NE(p.find("connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080;"), std::string::npos);
  EXPECT_NE(p.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(p.find("unsafe"), std::string::npos);
}

// Blob URLs carry what the client fetched with its token (a private room's images and audio);
// nothing else widens: no other scheme, no other origin.
TEST(PagePolicy, ImagesAndMediaMayComeFromBlobUrls) {
  std::string p = PagePolicy(Upgrade("127.0.0.1:8080", nullptr));
  EXPECT_NE(p.find("img-src 'self' data: blob:;"), std::string::npos);
  EXPECT_NE(p.find("media-src 'self' blob:;"), std::string::npos);
  EXPECT_NE(p.find("default-src 'none';"), std::string::npos);
  EXPECT_EQ(p.find("script-src 'self' blob:"), std::string::npos);
  EXPECT_EQ(p.find("https:"), std::string::npos);
  EXPECT_EQ(p.find("*"), std::string::npos);
  EXPECT_EQ(p.substr(p.size() - 2), "\r\n");
}

TEST(PagePolicy, AHostThatIsNotPlainIsLeftOut) {
  std::string p = PagePolicy(Upgrade("evil\r\nX: y", nullptr));
  EXPECT_NE(p.find("connect-src 'self';"), std::string::npos);
  EXPECT_EQ(p.find("evil"), std::string::npos);
}

}  // namespace
}  // namespace chatpipe
