#include "ingress/http_request.h"
#include "ingress/http_status.h"

#include <gtest/gtest.h>

#include <string>

namespace chatpipe::http {
namespace {

struct Parsed {
  ParseResult result;
  Request request;
  size_t consumed = 0;
  Status error;
};

Parsed Parse(std::string_view data, const Limits& limits = Limits()) {
  Parsed p;
  p.result = ParseRequest(data, limits, &p.request, &p.consumed, &p.error);
  return p;
}

// Asserts that `data` is refused with `http_status`.
void ExpectError(std::string_view data, int http_status, const Limits& limits = Limits()) {
  Parsed p = Parse(data, limits);
  ASSERT_EQ(p.result, ParseResult::kError) << testing::PrintToString(std::string(data));
  EXPECT_EQ(HttpStatusFor(p.error), http_status) << p.error.ToString();
  EXPECT_FALSE(p.error.ok());
}

TEST(HttpRequest, ParsesSimpleGet) {
  const std::string data =
      "GET /rooms/general/messages?limit=10&before=99 HTTP/1.1\r\n"
      "Host: example.com\r\n"
      "Authorization:   Bearer abc  \r\n"
      "X-Empty:\r\n"
      "\r\n";
  Parsed p = Parse(data);
  ASSERT_EQ(p.result, ParseResult::kDone) << p.error.ToString();
  EXPECT_EQ(p.consumed, data.size());
  EXPECT_EQ(p.request.method, "GET");
  EXPECT_EQ(p.request.target, "/rooms/general/messages?limit=10&before=99");
  EXPECT_EQ(p.request.path, "/rooms/general/messages");
  EXPECT_EQ(p.request.query, "limit=10&before=99");
  EXPECT_EQ(p.request.minor_version, 1);
  EXPECT_TRUE(p.request.keep_alive);
  EXPECT_TRUE(p.request.body.empty());
  ASSERT_EQ(p.request.headers.size(), 3u);
  EXPECT_EQ(p.request.headers[1].first, "Authorization");
  EXPECT_EQ(p.request.headers[1].second, "Bearer abc");
  ASSERT_NE(p.request.Header("authorization"), nullptr);
  EXPECT_EQ(*p.request.Header("AUTHORIZATION"), "Bearer abc");
  ASSERT_NE(p.request.Header("x-empty"), nullptr);
  EXPECT_EQ(*p.request.Header("x-empty"), "");
  EXPECT_EQ(p.request.Header("missing"), nullptr);
}

TEST(HttpRequest, ParsesBodyByContentLength) {
  const std::string data = "POST /rooms/a/messages HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n{\"t\":\"hi\"}\n";
  Parsed p = Parse(data);
  ASSERT_EQ(p.result, ParseResult::kDone) << p.error.ToString();
  EXPECT_EQ(p.request.body, "{\"t\":\"hi\"}\n");
  EXPECT_EQ(p.consumed, data.size());
}

TEST(HttpRequest, EveryProperPrefixIsIncomplete) {
  const std::string data = "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
  for (size_t n = 0; n < data.size(); ++n) {
    ASSERT_EQ(Parse(std::string_view(data).substr(0, n)).result, ParseResult::kIncomplete) << n;
  }
  EXPECT_EQ(Parse(data).result, ParseResult::kDone);
}

// A request arriving a byte at a time, parsed at every byte with the Progress a connection keeps,
// ends as it would in one piece; a blank line split across reads ("\r\n" then "\r\n", "\n" then
// "\n") is found.
TEST(HttpRequest, AByteAtATimeWithProgressParsesAsInOnePiece) {
  for (const std::string data : {std::string("POST /x?a=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"),
                                 std::string("\r\n\nGET /x HTTP/1.1\nHost: h\nContent-Length: 2\n\nok"),
                                 std::string("GET / HTTP/1.1\r\nHost: h\r\n\r\n")}) {
    Progress progress;
    Request request;
    size_t consumed = 0;
    Status error;
    for (size_t n = 1; n < data.size(); ++n)
      ASSERT_EQ(ParseRequest(std::string_view(data).substr(0, n), Limits(), &request, &consumed, &error, &progress),
                ParseResult::kIncomplete)
          << testing::PrintToString(data) << " at " << n;
    ASSERT_EQ(ParseRequest(data, Limits(), &request, &consumed, &error, &progress), ParseResult::kDone) << error.ToString();
    const Parsed whole = Parse(data);
    EXPECT_EQ(consumed, whole.consumed);
    EXPECT_EQ(request.target, whole.request.target);
    EXPECT_EQ(request.headers, whole.request.headers);
    EXPECT_EQ(request.body, whole.request.body);
  }
}

// What the Progress saves: the header section is searched from where the last call stopped, and once
// it was read, a call while the body is short parses nothing at all.
TEST(HttpRequest, ProgressParsesOnlyWhatIsNew) {
  const std::string head = "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n";
  Progress progress;
  Request request;
  size_t consumed = 0;
  Status error;
  ASSERT_EQ(ParseRequest(head.substr(0, 20), Limits(), &request, &consumed, &error, &progress), ParseResult::kIncomplete);
  EXPECT_EQ(progress.searched, 20u);
  EXPECT_EQ(progress.whole, 0u);
  const std::string some_body = head + std::string(10, 'b');
  ASSERT_EQ(ParseRequest(some_body, Limits(), &request, &consumed, &error, &progress), ParseResult::kIncomplete);
  EXPECT_EQ(progress.whole, head.size() + 100);
  EXPECT_EQ(consumed, head.size() + 100);
  request.method = "untouched";
  ASSERT_EQ(ParseRequest(some_body + "more", Limits(), &request, &consumed, &error, &progress), ParseResult::kIncomplete);
  EXPECT_EQ(request.method, "untouched") << "the headers were parsed again";
  EXPECT_EQ(consumed, head.size() + 100);
  ASSERT_EQ(ParseRequest(head + std::string(100, 'b'), Limits(), &request, &consumed, &error, &progress), ParseResult::kDone);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.body, std::string(100, 'b'));
}

TEST(HttpRequest, PipelinedRequestsParseOneAtATime) {
  const std::string first = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string second = "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz";
  const std::string third_part = "GET /c HTTP/1.1\r\nHo";
  const std::string all = first + second + third_part;

  Request req;
  size_t consumed = 0;
  Status error;
  std::string_view rest = all;
  ASSERT_EQ(ParseRequest(rest, Limits(), &req, &consumed, &error), ParseResult::kDone);
  EXPECT_EQ(consumed, first.size());
  EXPECT_EQ(req.path, "/a");
  rest.remove_prefix(consumed);
  ASSERT_EQ(ParseRequest(rest, Limits(), &req, &consumed, &error), ParseResult::kDone);
  EXPECT_EQ(consumed, second.size());
  EXPECT_EQ(req.path, "/b");
  EXPECT_EQ(req.body, "xyz");
  EXPECT_EQ(req.headers.size(), 2u);  // the reused Request did not keep the first one's headers
  rest.remove_prefix(consumed);
  EXPECT_EQ(ParseRequest(rest, Limits(), &req, &consumed, &error), ParseResult::kIncomplete);
}

TEST(HttpRequest, KeepAliveFollowsVersionAndConnection) {
  EXPECT_TRUE(Parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n").request.keep_alive);
  EXPECT_FALSE(Parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").request.keep_alive);
  EXPECT_FALSE(Parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, Close\r\n\r\n").request.keep_alive);
  EXPECT_FALSE(Parse("GET / HTTP/1.0\r\n\r\n").request.keep_alive);
  EXPECT_TRUE(Parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").request.keep_alive);
  EXPECT_FALSE(Parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n").request.keep_alive);
}

TEST(HttpRequest, Http10NeedsNoHost) {
  Parsed p = Parse("GET / HTTP/1.0\r\n\r\n");
  ASSERT_EQ(p.result, ParseResult::kDone);
  EXPECT_EQ(p.request.minor_version, 0);
}

TEST(HttpRequest, AcceptsBareLfAndLeadingEmptyLines) {
  const std::string data = "\r\n\nGET /x HTTP/1.1\nHost: h\nContent-Length: 2\n\nok";
  Parsed p = Parse(data);
  ASSERT_EQ(p.result, ParseResult::kDone) << p.error.ToString();
  EXPECT_EQ(p.request.path, "/x");
  EXPECT_EQ(*p.request.Header("host"), "h");
  EXPECT_EQ(p.request.body, "ok");
  EXPECT_EQ(p.consumed, data.size());
}

TEST(HttpRequest, DecodesPath) {
  Parsed p = Parse("GET /rooms/a%20b%2Fc/%e2%82%ac?x=%20 HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(p.result, ParseResult::kDone);
  EXPECT_EQ(p.request.path, "/rooms/a b/c/\xE2\x82\xAC");
  EXPECT_EQ(p.request.query, "x=%20");  // the query stays raw
}

TEST(HttpRequest, AcceptsAbsoluteAndAsteriskForms) {
  Parsed p = Parse("GET http://example.com:8080/a%21?b=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
  ASSERT_EQ(p.result, ParseResult::kDone);
  EXPECT_EQ(p.request.path, "/a!");
  EXPECT_EQ(p.request.query, "b=1");
  p = Parse("GET https://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n");
  ASSERT_EQ(p.result, ParseResult::kDone);
  EXPECT_EQ(p.request.path, "/");
  p = Parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(p.result, ParseResult::kDone);
  EXPECT_EQ(p.request.path, "*");
}

TEST(HttpRequest, QueryParams) {
  Parsed p = Parse(
      "GET /?a=1&b=hello+world&c=%E2%82%AC&d&e=&a=2&x%20y=z&bad=%zz%4 HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(p.result, ParseResult::kDone);
  const Request& r = p.request;
  EXPECT_EQ(r.QueryParam("a"), "1");  // the first one wins
  EXPECT_EQ(r.QueryParam("b"), "hello world");
  EXPECT_EQ(r.QueryParam("c"), "\xE2\x82\xAC");
  EXPECT_EQ(r.QueryParam("d"), "");
  EXPECT_EQ(r.QueryParam("e"), "");
  EXPECT_EQ(r.QueryParam("x y"), "z");
  EXPECT_EQ(r.QueryParam("bad"), "%zz%4");
  EXPECT_EQ(r.QueryParam("missing"), std::nullopt);
  EXPECT_EQ(r.QueryParam("A"), std::nullopt);  // names are case-sensitive
}

TEST(HttpRequest, RejectsMalformedRequestLines) {
  ExpectError("GE(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);        // invalid method token
  ExpectError("GET /\r\nHost: h\r\n\r\n", 400);                   // no version
  ExpectError("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400);         // empty target
  ExpectError("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400);       // space in target
  ExpectError("GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n", 400);     // control in target
  ExpectError("GET /a\xC3\xA9 HTTP/1.1\r\nHost: h\r\n\r\n", 400); // raw non-ASCII in target
  ExpectError("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  ExpectError("GET a/b HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  ExpectError("GET ftp://x/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  ExpectError("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  ExpectError("GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  ExpectError("GET /%4 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  ExpectError("GET /a%00b HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  ExpectError("GET / HTTX/1.1\r\nHost: h\r\n\r\n", 400);
  ExpectError("GET / HTTP/1.10\r\nHost: h\r\n\r\n", 400);
  ExpectError("GET / http/1.1\r\nHost: h\r\n\r\n", 400);
  ExpectError("\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST(HttpRequest, RejectsOtherVersionsWith505) {
  ExpectError("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
  ExpectError("GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505);
  ExpectError("GET / HTTP/0.9\r\n\r\n", 505);
}

TEST(HttpRequest, RejectsMalformedHeaders) {
  ExpectError("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n  folded\r\n\r\n", 400);  // obs-fold
  ExpectError("GET / HTTP/1.1\r\nHost: h\r\n\tX-A: 1\r\n\r\n", 400);
  ExpectError("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400);
  ExpectError("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400);  // space before the colon
  ExpectError("GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", 400);
  ExpectError("GET / HTTP/1.1\r\nHost: h\r\nX(A): v\r\n\r\n", 400);
  ExpectError("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x01z\r\n\r\n", 400);
  ExpectError("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rz\r\n\r\n", 400);
  ExpectError(std::string("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\0z\r\n\r\n", 37), 400);
}

TEST(HttpRequest, AcceptsObsTextInValues) {
  Parsed p = Parse("GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\xC3\xA9\r\n\r\n");
  ASSERT_EQ(p.result, ParseResult::kDone);
  EXPECT_EQ(*p.request.Header("x-name"), "caf\xC3\xA9");
}

TEST(HttpRequest, HostMustBeUniqueAndPresentIn11) {
  ExpectError("GET / HTTP/1.1\r\n\r\n", 400);
  ExpectError("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
  ExpectError("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400);
}

TEST(HttpRequest, ChecksContentLength) {
  ExpectError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n", 400);
  ExpectError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400);
  ExpectError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n", 400);
  ExpectError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400);
  ExpectError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 1\r\n\r\n", 400);
  ExpectError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400);
  Parsed p = Parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nab");
  ASSERT_EQ(p.result, ParseResult::kDone);  // identical duplicates are harmless
  EXPECT_EQ(p.request.body, "ab");
  p = Parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(p.result, ParseResult::kDone);
  EXPECT_EQ(p.request.body, "");
}

TEST(HttpRequest, RejectsOversizedBodyBeforeItArrives) {
  Limits limits;
  limits.max_body_bytes = 10;
  ExpectError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", 413, limits);
  ExpectError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999999\r\n\r\n", 413, limits);
  Parsed p = Parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789", limits);
  EXPECT_EQ(p.result, ParseResult::kDone);
  EXPECT_EQ(p.error.name(), "");
  ExpectError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 65537\r\n\r\n", 413);  // the default limit
}

bool IsUploadPath(std::string_view method, std::string_view path) { return method == "POST" && path == "/up"; }

TEST(HttpRequest, UploadsMayBeLargerAndSayHowLargeBeforeTheyArrive) {
  Limits limits;
  limits.max_body_bytes = 10;
  limits.max_upload_bytes = 100;
  limits.is_upload = IsUploadPath;
  ExpectError("POST /other HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", 413, limits);
  ExpectError("POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n", 413, limits);
  const std::string head = "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n";
  Parsed partial = Parse(head + "abc", limits);
  EXPECT_EQ(partial.result, ParseResult::kIncomplete);
  EXPECT_EQ(partial.consumed, head.size() + 100);  // the room the whole request needs
  EXPECT_EQ(Parse("POST /up HTTP/1.1\r\nHost:", limits).consumed, 0u);  // headers not here yet
  Parsed whole = Parse(head + std::string(100, 'x'), limits);
  ASSERT_EQ(whole.result, ParseResult::kDone);
  EXPECT_EQ(whole.request.body.size(), 100u);
}

TEST(HttpRequest, RefusesTransferEncoding) {
  ExpectError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 411);
  ExpectError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 411);
  ExpectError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501);
  ExpectError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 411);
}

TEST(HttpRequest, LimitsHeaderSection) {
  Limits limits;
  limits.max_header_bytes = 64;
  const std::string head = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
  const std::string tail = "\r\n\r\n";
  // Exactly at the limit passes; one byte over fails, whether or not the section has ended.
  const std::string fits = head + std::string(64 - head.size() - tail.size(), 'a') + tail;
  ASSERT_EQ(fits.size(), 64u);
  EXPECT_EQ(Parse(fits, limits).result, ParseResult::kDone);
  ExpectError(head + std::string(65 - head.size() - tail.size(), 'a') + tail, 431, limits);
  ExpectError(head + std::string(100, 'a'), 431, limits);
  EXPECT_EQ(Parse(head + std::string(10, 'a'), limits).result, ParseResult::kIncomplete);
  ExpectError(std::string(100, '\n'), 431, limits);  // endless empty lines cannot grow the buffer
}

TEST(HttpRequest, StatusTexts) {
  EXPECT_EQ(StatusText(200), "OK");
  EXPECT_EQ(StatusText(101), "Switching Protocols");
  EXPECT_EQ(StatusText(404), "Not Found");
  EXPECT_EQ(StatusText(413), "Content Too Large");
  EXPECT_EQ(StatusText(431), "Request Header Fields Too Large");
  EXPECT_EQ(StatusText(505), "HTTP Version Not Supported");
  EXPECT_EQ(StatusText(799), "Unknown");
}

TEST(HttpRequest, HeaderHasToken) {
  EXPECT_TRUE(HeaderHasToken("Upgrade", "upgrade"));
  EXPECT_TRUE(HeaderHasToken("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(HeaderHasToken(" a ,\tb\t", "b"));
  EXPECT_FALSE(HeaderHasToken("upgrades", "upgrade"));
  EXPECT_FALSE(HeaderHasToken("", "upgrade"));
}

}  // namespace
TEST(HttpRequest, QueryIntTakesWholeIntegersAndLeavesAnAbsentOneAlone) {
  Request r;
  r.query = "limit=25&before=-3&bad=12x&empty=&big=99999999999999999999";
  int64_t v = 7;
  EXPECT_TRUE(r.QueryInt("limit", &v));
  EXPECT_EQ(v, 25);
  EXPECT_TRUE(r.QueryInt("before", &v));
  EXPECT_EQ(v, -3);
  v = 7;
  EXPECT_TRUE(r.QueryInt("absent", &v));
  EXPECT_EQ(v, 7);
  for (const char* bad : {"bad", "empty", "big"}) EXPECT_FALSE(r.QueryInt(bad, &v)) << bad;
  EXPECT_TRUE(ParseInt("0", &v));
  EXPECT_FALSE(ParseInt("", &v));
  EXPECT_FALSE(ParseInt(" 1", &v));
}

}  // namespace chatpipe::http
