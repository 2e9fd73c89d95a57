#include "bench/loadgen/http_response.h"

#include <strings.h>

namespace chatpipe::bench {
namespace {

bool NameIs(std::string_view line, size_t colon, const char* name) {
  const size_t n = std::string_view(name).size();
  return colon == n && strncasecmp(line.data(), name, n) == 0;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

HeadResult ParseResponseHead(std::string_view data, ResponseHead* out, size_t* head_bytes) {
  const size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) return data.size() > 65536 ? HeadResult::kError : HeadResult::kIncomplete;
  std::string_view head = data.substr(0, end + 2);  // every line ends with \r\n
  *out = ResponseHead{};
  // "HTTP/1.1 202 Accepted"
  if (head.size() < 12 || head.substr(0, 7) != "HTTP/1." || head[8] != ' ') return HeadResult::kError;
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (head[i] < '0' || head[i] > '9') return HeadResult::kError;
    status = status * 10 + (head[i] - '0');
  }
  if (head.size() > 12 && head[12] != ' ' && head[12] != '\r') return HeadResult::kError;
  out->status = status;
  out->close = head[5] == '1' && head[7] == '0';  // HTTP/1.0 closes unless told otherwise
  bool have_length = false;
  size_t at = head.find("\r\n") + 2;
  while (at < head.size()) {
    const size_t eol = head.find("\r\n", at);
    std::string_view line = head.substr(at, eol - at);
    at = eol + 2;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return HeadResult::kError;
    std::string_view value = Trim(line.substr(colon + 1));
    if (NameIs(line, colon, "content-length")) {
      if (value.empty() || value.size() > 15 || have_length) return HeadResult::kError;
      uint64_t n = 0;
      for (char c : value) {
        if (c < '0' || c > '9') return HeadResult::kError;
        n = n * 10 + static_cast<uint64_t>(c - '0');
      }
      out->content_length = n;
      have_length = true;
    } else if (NameIs(line, colon, "transfer-encoding")) {
      return HeadResult::kError;
    } else if (NameIs(line, colon, "connection")) {
      out->close = strncasecmp(value.data(), "close", 5) == 0 && value.size() == 5;
    } else if (NameIs(line, colon, "etag")) {
      out->etag = value;
    }
  }
  // 1xx, 204 and 304 have no body; every other answer of the ingress says its length.
  const bool bodiless = status < 200 || status == 204 || status == 304;
  if (!have_length && !bodiless) return HeadResult::kError;
  *head_bytes = end + 4;
  return HeadResult::kDone;
}

}  // namespace chatpipe::bench
