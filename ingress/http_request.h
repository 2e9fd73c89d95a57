// HTTP/1.1 request parsing for the ingress server (RFC 9112), pure: bytes in, Request out, no I/O.
//
// The connection owns its input buffer and calls ParseRequest on whatever has arrived so far, with the
// Progress it keeps for the request (the parser keeps no state of its own). kIncomplete means "call
// again with more bytes". kDone fills the caller's Request and says how many bytes it used, so the next
// pipelined request starts right there. kError carries a Status whose http_status is the response to
// send before closing the connection.
//
// Deliberately strict where leniency enables request smuggling or ambiguity (invalid tokens,
// obs-fold, conflicting Content-Length, any Transfer-Encoding) and lenient where it costs nothing
// (bare LF line endings, empty lines before the request line). Request bodies need a Content-Length:
// chunked uploads are refused with 411 since no client of ours sends them.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace chatpipe::http {

struct Request {
  std::string method;  // as sent; methods are case-sensitive
  std::string target;  // the request-target, raw
  std::string path;    // percent-decoded path of the target
  std::string query;   // raw, without the '?'
  int minor_version = 1;
  std::vector<std::pair<std::string, std::string>> headers;  // in arrival order, values trimmed
  std::string body;
  bool keep_alive = true;

  // The first header with this name (case-insensitive), or null.
  const std::string* Header(std::string_view name) const;
  // The first query parameter with this name, percent- and '+'-decoded. A malformed escape is kept
  // literally: a query is advisory input, not worth failing a request over.
  std::optional<std::string> QueryParam(std::string_view name) const;
  // Query parameter `name` as a decimal integer into *out: true when it is one, and when it is absent
  // (*out keeps its default); false when it is there and not a whole integer.
  bool QueryInt(std::string_view name, int64_t* out) const;
};

// Whether all of `text` is a decimal integer (an optional '-' and digits, in range), into *out.
bool ParseInt(std::string_view text, int64_t* out);

struct Limits {
  size_t max_header_bytes = 16384;  // request line + headers + the blank line
  size_t max_body_bytes = 65536;
  // A request `is_upload` picks (by method and path) may carry up to max_upload_bytes instead.
  size_t max_upload_bytes = 0;
  bool (*is_upload)(std::string_view method, std::string_view path) = nullptr;
};

enum class ParseResult { kIncomplete, kDone, kError };

// What the caller knows of the request arriving at the front of its buffer, kept between calls so that
// a read costs only its new bytes: a client that sends its request a byte at a time must not make every
// byte re-read all the headers (16 KiB) and, once they are here, re-parse them for each body byte. A
// fresh Progress (all zero) for each request; the buffer's front must not change meanwhile.
struct Progress {
  size_t start = 0;     // data[0, start) are empty lines before the request line
  size_t searched = 0;  // no end of the header section lies in data[0, searched)
  size_t whole = 0;     // the headers were read: the request is this many bytes (0: not yet known)
};

// Parses one request from the front of `data`. On kDone, *out holds it and *consumed the bytes it
// took. On kIncomplete, *consumed is the size the whole request will have once its headers are here
// (so that a caller can make room for an upload), else 0; *out holds the request line and headers
// once they are here, unless `progress` said the body is still short (then nothing was parsed).
// Otherwise *out is unspecified (a Request can be reused across calls to keep its capacity). On
// kError, *error says why with the HTTP status to answer: 400 malformed, 411 chunked body, 413 body
// over the limit (known from Content-Length before the body arrives), 431 headers over the limit, 501
// unsupported Transfer-Encoding, 505 a version other than HTTP/1.0 or HTTP/1.1.
ParseResult ParseRequest(std::string_view data, const Limits& limits, Request* out, size_t* consumed,
                         Status* error, Progress* progress = nullptr);

// True if the comma-separated header value holds `token` (case-insensitive), as for Connection.
bool HeaderHasToken(std::string_view value, std::string_view token);

// The reason phrase for a status code ("OK", "Not Found", ...); "Unknown" for codes we never send.
std::string_view StatusText(int code);

}  // namespace chatpipe::http
