// Fuzzes the HTTP/1.1 request parser (ingress/http_request.h) with the WebSocket upgrade checks that
// run on what it parses. Beyond "no crash and no sanitizer report": a refusal is one of the statuses
// the parser documents, a parsed request used no more bytes than it was given, and the parser is
// stateless over a growing buffer: every shorter prefix of a request it accepts is "incomplete",
// never an error nor another request, however TCP split the bytes; and fed the same bytes in pieces
// with a Progress, as a connection does, it answers as it does in one piece.
//
// Input: byte 0 picks small limits (so 413 and 431 stay reachable); the rest is the byte stream.
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "ingress/http_request.h"
#include "ingress/http_status.h"
#include "ingress/websocket.h"

#define FUZZ_CHECK(cond) \
  if (!(cond)) __builtin_trap()

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chatpipe;
  if (size < 1) return 0;
  http::Limits limits;
  if (data[0] & 1) {
    limits.max_header_bytes = 64 + (data[0] >> 1) * 4;
    limits.max_body_bytes = data[0] >> 1;
  }
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  http::Request request;
  size_t consumed = 0;
  Status error;
  const http::ParseResult result = http::ParseRequest(input, limits, &request, &consumed, &error);

  // The same bytes arriving in pieces of 1-8 bytes (the sizes from the input), parsed with a Progress
  // after each: incomplete until it answers, and then the one-piece answer.
  {
    http::Progress progress;
    http::Request piecewise;
    size_t piecewise_consumed = 0;
    Status piecewise_error;
    http::ParseResult r = http::ParseResult::kIncomplete;
    for (size_t n = 0; n < input.size() && r == http::ParseResult::kIncomplete;) {
      n = std::min(input.size(), n + 1 + (static_cast<unsigned char>(input[n]) & 7));
      r = http::ParseRequest(input.substr(0, n), limits, &piecewise, &piecewise_consumed, &piecewise_error, &progress);
    }
    FUZZ_CHECK(r == result);
    if (r == http::ParseResult::kDone) {
      FUZZ_CHECK(piecewise_consumed == consumed);
      FUZZ_CHECK(piecewise.target == request.target && piecewise.body == request.body &&
                 piecewise.headers == request.headers);
    }
  }
  if (result == http::ParseResult::kError) {
    const int status = HttpStatusFor(error);
    FUZZ_CHECK(status == 400 || status == 411 || status == 413 || status == 431 || status == 501 ||
               status == 505);
    return 0;
  }
  if (result != http::ParseResult::kDone) return 0;
  FUZZ_CHECK(consumed > 0 && consumed <= input.size());
  FUZZ_CHECK(request.body.size() <= limits.max_body_bytes);
  FUZZ_CHECK(!request.method.empty() && !request.target.empty());

  // Accessors and the upgrade path on whatever was accepted.
  request.Header("Connection");
  request.QueryParam("token");
  if (const std::string* connection = request.Header("Connection")) http::HeaderHasToken(*connection, "upgrade");
  if (ws::CheckUpgradeRequest(request).ok()) FUZZ_CHECK(!ws::UpgradeResponse(request, "").empty());

  // Prefixes: the first byte short, half, and one byte.
  for (size_t cut : {consumed - 1, consumed / 2, size_t{1}}) {
    if (cut == 0 || cut >= consumed) continue;
    http::Request partial;
    size_t partial_consumed = 0;
    Status partial_error;
    FUZZ_CHECK(http::ParseRequest(input.substr(0, cut), limits, &partial, &partial_consumed, &partial_error) ==
               http::ParseResult::kIncomplete);
  }
  return 0;
}
