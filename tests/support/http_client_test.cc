#include "tests/support/http_client.h"

#include <gtest/gtest.h>

#include "ingress/http_request.h"
#include "ingress/http_status.h"
#include "tests/support/loopback_server.h"

namespace chatpipe::test {
namespace {

using namespace std::chrono_literals;

std::string Response(int status, const std::string& body, bool with_body = true) {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(http::StatusText(status)) +
         "\r\nContent-Type: text/plain\r\nX-Reply: yes\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + (with_body ? body : "");
}

// A fake HTTP server: describes each request in the response body; "/missing" is a 404, "/slow"
// never answers. Keeps the connection open between requests.
void ServeHttp(int fd) {
  std::string in;
  http::Request request;
  for (;;) {
    size_t consumed = 0;
    Status error;
    const http::ParseResult result = http::ParseRequest(in, http::Limits(), &request, &consumed, &error);
    if (result == http::ParseResult::kIncomplete) {
      if (!RecvSome(fd, &in)) return;
      continue;
    }
    if (result == http::ParseResult::kError) {
      SendAll(fd, Response(HttpStatusFor(error), error.detail()));
      return;
    }
    in.erase(0, consumed);
    if (request.path == "/slow") {
      while (RecvSome(fd, &in)) {
      }
      return;
    }
    const std::string* x_test = request.Header("X-Test");
    const std::string body = request.method + " " + request.path + " q=" + request.QueryParam("q").value_or("") +
                             " x-test=" + (x_test != nullptr ? *x_test : "") + " body=" + request.body;
    if (!SendAll(fd, Response(request.path == "/missing" ? 404 : 200, body, request.method != "HEAD"))) return;
  }
}

class HttpClientTest : public ::testing::Test {
 protected:
  std::string Url(const std::string& path) { return "http://127.0.0.1:" + std::to_string(server_.port()) + path; }

  LoopbackServer server_{ServeHttp};
};

TEST_F(HttpClientTest, GetWithQueryAndHeaders) {
  Result<HttpResponse> r = HttpRequest("GET", Url("/things?q=a+b"), "", {"X-Test: 7"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "GET /things q=a b x-test=7 body=");
  EXPECT_EQ(r->headers["x-reply"], "yes");
  EXPECT_EQ(r->headers["content-type"], "text/plain");
}

TEST_F(HttpClientTest, PostAndOtherMethodsSendBodies) {
  Result<HttpResponse> r = HttpRequest("POST", Url("/rooms/a/messages"), "{\"text\":\"hi\"}");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "POST /rooms/a/messages q= x-test= body={\"text\":\"hi\"}");
  r = HttpRequest("POST", Url("/empty"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "POST /empty q= x-test= body=");
  r = HttpRequest("PATCH", Url("/p"), "x");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "PATCH /p q= x-test= body=x");
  r = HttpRequest("DELETE", Url("/d"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "DELETE /d q= x-test= body=");
}

TEST_F(HttpClientTest, HeadHasNoBody) {
  Result<HttpResponse> r = HttpRequest("HEAD", Url("/h"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "");
  EXPECT_EQ(r->headers["content-length"], std::to_string(std::string("HEAD /h q= x-test= body=").size()));
}

TEST_F(HttpClientTest, ErrorStatusesAreResponses) {
  Result<HttpResponse> r = HttpRequest("GET", Url("/missing"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 404);
  r = HttpRequest("POST", Url("/big"), std::string(70000, 'x'));  // over the parser's body limit
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);
}

TEST_F(HttpClientTest, TimesOut) {
  Result<HttpResponse> r = HttpRequest("GET", Url("/slow"), "", {}, 200ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().name(), "timeout");
}

TEST(HttpClient, NoServer) {
  Result<HttpResponse> r = HttpRequest("GET", "http://127.0.0.1:1/", "", {}, 2s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().name(), "http_failed");
}

}  // namespace
}  // namespace chatpipe::test
