#include "bench/loadgen/http_response.h"

#include <gtest/gtest.h>

#include <string>

namespace chatpipe::bench {
namespace {

TEST(ResponseHeadTest, ReadsStatusLengthAndEtag) {
  const std::string r =
      "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\ncontent-length: 27\r\nETag: \"41\"\r\n"
      "X-Instance-Id: a\r\n\r\n{\"id\":\"1\",\"ts\":17000000000}";
  ResponseHead h;
  size_t used = 0;
  ASSERT_EQ(ParseResponseHead(r, &h, &used), HeadResult::kDone);
  EXPECT_EQ(h.status, 202);
  EXPECT_EQ(h.content_length, 27u);
  EXPECT_EQ(h.etag, "\"41\"");
  EXPECT_FALSE(h.close);
  EXPECT_EQ(r.substr(used), "{\"id\":\"1\",\"ts\":17000000000}");
}

TEST(ResponseHeadTest, WaitsForTheWholeHead) {
  const std::string r = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  ResponseHead h;
  size_t used = 0;
  for (size_t n = 0; n < r.find("\r\n\r\n") + 4; ++n)
    EXPECT_EQ(ParseResponseHead(std::string_view(r).substr(0, n), &h, &used), HeadResult::kIncomplete) << n;
  EXPECT_EQ(ParseResponseHead(r, &h, &used), HeadResult::kDone);
}

TEST(ResponseHeadTest, NotModifiedNeedsNoLengthAndCloseIsSeen) {
  ResponseHead h;
  size_t used = 0;
  ASSERT_EQ(ParseResponseHead("HTTP/1.1 304 Not Modified\r\nETag: \"7\"\r\n\r\n", &h, &used), HeadResult::kDone);
  EXPECT_EQ(h.status, 304);
  EXPECT_EQ(h.content_length, 0u);
  ASSERT_EQ(ParseResponseHead("HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", &h, &used),
            HeadResult::kDone);
  EXPECT_EQ(h.status, 429);
  EXPECT_TRUE(h.close);
  ASSERT_EQ(ParseResponseHead("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", &h, &used), HeadResult::kDone);
  EXPECT_TRUE(h.close);  // HTTP/1.0 without keep-alive
}

TEST(ResponseHeadTest, RefusesWhatItCannotFrame) {
  ResponseHead h;
  size_t used = 0;
  EXPECT_EQ(ParseResponseHead("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", &h, &used), HeadResult::kError);
  EXPECT_EQ(ParseResponseHead("HTTP/1.1 200 OK\r\n\r\n", &h, &used), HeadResult::kError);  // no length
  EXPECT_EQ(ParseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", &h, &used), HeadResult::kError);
  EXPECT_EQ(ParseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", &h, &used),
            HeadResult::kError);
  EXPECT_EQ(ParseResponseHead("HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", &h, &used), HeadResult::kError);
  EXPECT_EQ(ParseResponseHead("ICY 200 OK\r\nContent-Length: 0\r\n\r\n", &h, &used), HeadResult::kError);
  EXPECT_EQ(ParseResponseHead("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", &h, &used), HeadResult::kError);
  EXPECT_EQ(ParseResponseHead(std::string(70000, 'x'), &h, &used), HeadResult::kError);
}

}  // namespace
}  // namespace chatpipe::bench
