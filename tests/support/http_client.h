// HttpRequest: a blocking HTTP client for end-to-end tests, on libcurl.
//
// Each call uses its own connection and returns once the whole response has arrived or the timeout
// passed. A response with any status, 4xx and 5xx included, is a success at this level: the test
// asserts on HttpResponse::status. Only failing to get a response at all is an error Status
// (408 "timeout", 503 "http_failed").
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace chatpipe::test {

struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names; a repeated header keeps the last
};

// method: "GET", "POST", ...; headers: full lines ("Authorization: Bearer x"). A non-empty body is
// sent with Content-Length; a POST or PUT with an empty one sends "Content-Length: 0".
Result<HttpResponse> HttpRequest(const std::string& method, const std::string& url, const std::string& body = "",
                                 const std::vector<std::string>& headers = {},
                                 std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace chatpipe::test
