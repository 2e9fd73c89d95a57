// The head of an HTTP/1.1 response, as chatpipe-loadgen's keep-alive HTTP clients read it (the board
// benchmark's placements and board reads). Pure: bytes in, the head out. The ingress always answers
// with a Content-Length (never chunked), so that is all this reads; anything else is an error, and
// the client closes the connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace chatpipe::bench {

struct ResponseHead {
  int status = 0;
  uint64_t content_length = 0;
  bool close = false;  // "Connection: close": the server ends the connection after this response
  std::string_view etag;  // points into the parsed bytes
};

enum class HeadResult { kIncomplete, kDone, kError };

// Parses the head at the front of `data`. kDone: *out is filled and *head_bytes is the head's length
// (the body's Content-Length bytes follow). kIncomplete: more bytes are needed. kError: not a
// response this client can read (bad status line, no or a bad Content-Length, chunked).
HeadResult ParseResponseHead(std::string_view data, ResponseHead* out, size_t* head_bytes);

}  // namespace chatpipe::bench
