#include "ingress/http_request.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace chatpipe::http {

namespace {

constexpr size_t kNpos = std::string_view::npos;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

// tchar from RFC 9110 section 5.6.2: the characters allowed in methods and header names.
bool IsTokenChar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

// Field values may hold visible characters, obs-text (0x80-0xFF), spaces and tabs; no other controls.
bool IsFieldValue(std::string_view s) {
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\t') || c == 0x7F) return false;
  }
  return true;
}

// The request-target may not hold spaces, controls, non-ASCII or a fragment. Other characters that
// RFC 3986 does not list ('|', '{', ...) appear in real clients' queries, so they pass.
bool IsTargetChar(unsigned char c) { return c > 0x20 && c < 0x7F && c != '#'; }

std::string_view TrimWhitespace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes (and '+' as space if asked) into *out. Returns false if an escape was malformed;
// it is then copied literally.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  bool ok = true;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      const int hi = i + 2 < in.size() ? HexValue(in[i + 1]) : -1;
      const int lo = hi >= 0 ? HexValue(in[i + 2]) : -1;
      if (lo >= 0) {
        c = static_cast<char>(hi << 4 | lo);
        i += 2;
      } else {
        ok = false;
      }
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    out->push_back(c);
  }
  return ok;
}

// RFC 9112 section 2.2: a server should ignore empty lines before the request line. Returns where
// the request line starts.
size_t SkipEmptyLines(std::string_view data) {
  size_t i = 0;
  for (;;) {
    if (i < data.size() && data[i] == '\n') {
      i += 1;
    } else if (i + 1 < data.size() && data[i] == '\r' && data[i + 1] == '\n') {
      i += 2;
    } else {
      return i;
    }
  }
}

// Returns the offset just past the blank line ending the header section, or kNpos if it has not
// arrived. A blank line is "\n\n" or "\n\r\n" since bare LF line endings are accepted.
size_t FindHeaderEnd(std::string_view data, size_t from) {
  while (from < data.size()) {
    const void* nl = std::memchr(data.data() + from, '\n', data.size() - from);
    if (nl == nullptr) return kNpos;
    const size_t i = static_cast<const char*>(nl) - data.data();
    if (i + 1 < data.size() && data[i + 1] == '\n') return i + 2;
    if (i + 2 < data.size() && data[i + 1] == '\r' && data[i + 2] == '\n') return i + 3;
    from = i + 1;
  }
  return kNpos;
}

// Splits the next line off the front of *rest, dropping its CR LF or bare LF.
std::string_view NextLine(std::string_view* rest) {
  const size_t nl = rest->find('\n');
  std::string_view line = rest->substr(0, nl);
  rest->remove_prefix(nl == kNpos ? rest->size() : nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

Status Bad(std::string reason) { return Status::InvalidArgument("bad_request", std::move(reason)); }

// Fills path and query from target, which is in origin-form ("/a?b"), absolute-form
// ("http://host/a?b") or asterisk-form ("*", OPTIONS only).
Status SplitTarget(Request* req) {
  std::string_view target = req->target;
  if (target == "*") {
    if (req->method != "OPTIONS") return Bad("'*' target is only for OPTIONS");
    req->path = "*";
    req->query.clear();
    return Status::Ok();
  }
  for (char c : target) {
    if (!IsTargetChar(static_cast<unsigned char>(c))) return Bad("invalid character in request target");
  }
  if (target.front() != '/') {
    const size_t scheme_end = target.find("://");
    if (scheme_end == kNpos || !(EqualsIgnoreCase(target.substr(0, scheme_end), "http") ||
                                 EqualsIgnoreCase(target.substr(0, scheme_end), "https"))) {
      return Bad("unsupported request target form");
    }
    const size_t path_start = target.find_first_of("/?", scheme_end + 3);
    target = path_start == kNpos ? std::string_view("/") : target.substr(path_start);
  }
  const size_t q = target.find('?');
  req->query.assign(q == kNpos ? std::string_view() : target.substr(q + 1));
  std::string_view raw_path = target.substr(0, q);
  if (raw_path.empty()) raw_path = "/";
  if (!PercentDecode(raw_path, false, &req->path)) return Bad("malformed percent-escape in path");
  if (req->path.find('\0') != std::string::npos) return Bad("NUL in path");
  return Status::Ok();
}

Status ParseRequestLine(std::string_view line, Request* req) {
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == kNpos ? kNpos : line.find(' ', sp1 + 1);
  if (sp2 == kNpos) return Bad("malformed request line");
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method)) return Bad("invalid method");
  if (target.empty()) return Bad("empty request target");
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
    return Bad("malformed HTTP version");
  }
  if (version[5] != '1' || version[7] > '1') {
    return Status::Unimplemented("version_not_supported", "only HTTP/1.0 and HTTP/1.1 are supported");
  }
  req->method.assign(method);
  req->target.assign(target);
  req->minor_version = version[7] - '0';
  return SplitTarget(req);
}

Status ParseHeaderLine(std::string_view line, Request* req) {
  if (line.front() == ' ' || line.front() == '\t') return Bad("obsolete line folding");
  const size_t colon = line.find(':');
  if (colon == kNpos) return Bad("header line without ':'");
  const std::string_view name = line.substr(0, colon);
  const std::string_view value = TrimWhitespace(line.substr(colon + 1));
  if (!IsToken(name)) return Bad("invalid header name");
  if (!IsFieldValue(value)) return Bad("invalid character in header value");
  req->headers.emplace_back(name, value);
  return Status::Ok();
}

// Parses one Content-Length value. Values past the body limit are clamped to limit + 1: all that
// matters about them is that they are too large.
bool ParseContentLength(std::string_view value, size_t limit, size_t* length) {
  if (value.empty()) return false;
  size_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
    if (n > limit) n = limit + 1;
  }
  *length = n;
  return true;
}

// Checks the headers that frame the message and decides the body length and keep-alive.
Status InterpretHeaders(const Limits& limits, Request* req, size_t* body_length) {
  const size_t max_body = limits.is_upload && limits.is_upload(req->method, req->path)
                              ? std::max(limits.max_upload_bytes, limits.max_body_bytes)
                              : limits.max_body_bytes;
  bool have_length = false;
  int hosts = 0;
  bool close = false;
  bool keep_alive = false;
  *body_length = 0;
  for (const auto& [name, value] : req->headers) {
    if (EqualsIgnoreCase(name, "content-length")) {
      size_t n;
      if (!ParseContentLength(value, max_body, &n)) return Bad("invalid Content-Length");
      if (have_length && n != *body_length) return Bad("conflicting Content-Length headers");
      have_length = true;
      *body_length = n;
    } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
      if (HeaderHasToken(value, "chunked")) {
        return Status::InvalidArgument("length_required", "chunked request bodies are not accepted");
      }
      return Status::Unimplemented("not_implemented", "unsupported Transfer-Encoding");
    } else if (EqualsIgnoreCase(name, "host")) {
      ++hosts;
    } else if (EqualsIgnoreCase(name, "connection")) {
      close |= HeaderHasToken(value, "close");
      keep_alive |= HeaderHasToken(value, "keep-alive");
    }
  }
  // RFC 9112 section 3.2: exactly one Host in HTTP/1.1, at most one in HTTP/1.0.
  if (hosts > 1 || (hosts == 0 && req->minor_version == 1)) return Bad("missing or repeated Host");
  if (*body_length > max_body) return Status::TooLarge("request body over the limit");
  req->keep_alive = !close && (req->minor_version == 1 || keep_alive);
  return Status::Ok();
}

}  // namespace

const std::string* Request::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return &value;
  }
  return nullptr;
}

bool ParseInt(std::string_view text, int64_t* out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && p == text.data() + text.size();
}

bool Request::QueryInt(std::string_view name, int64_t* out) const {
  std::optional<std::string> text = QueryParam(name);
  return !text || ParseInt(*text, out);
}

std::optional<std::string> Request::QueryParam(std::string_view name) const {
  std::string_view rest = query;
  std::string key;
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest.remove_prefix(amp == kNpos ? rest.size() : amp + 1);
    const size_t eq = pair.find('=');
    PercentDecode(pair.substr(0, eq), true, &key);
    if (key != name) continue;
    std::string value;
    if (eq != kNpos) PercentDecode(pair.substr(eq + 1), true, &value);
    return value;
  }
  return std::nullopt;
}

bool HeaderHasToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    if (EqualsIgnoreCase(TrimWhitespace(value.substr(0, comma)), token)) return true;
    value.remove_prefix(comma == kNpos ? value.size() : comma + 1);
  }
  return false;
}

ParseResult ParseRequest(std::string_view data, const Limits& limits, Request* out, size_t* consumed,
                         Status* error, Progress* progress) {
  Progress scratch;
  Progress& p = progress ? *progress : scratch;
  if (p.whole && data.size() < p.whole) {  // the headers were read; the body is still coming
    *consumed = p.whole;
    return ParseResult::kIncomplete;
  }
  const size_t start = p.start + SkipEmptyLines(data.substr(p.start));
  p.start = start;
  // A blank line's first '\n' may be the last or last-but-one byte already searched ("\n" + "\r\n").
  const size_t header_end = FindHeaderEnd(data, std::max(start, p.searched >= 2 ? p.searched - 2 : 0));
  if (header_end == kNpos) p.searched = data.size();
  // The limit also counts the skipped empty lines, so an endless stream of them cannot grow the buffer.
  if ((header_end == kNpos ? data.size() : header_end) > limits.max_header_bytes) {
    *error = Status::TooLarge("headers_too_large", "request header section over the limit");
    return ParseResult::kError;
  }
  *consumed = 0;
  if (header_end == kNpos) return ParseResult::kIncomplete;

  std::string_view rest = data.substr(start, header_end - start);
  out->headers.clear();
  Status status = ParseRequestLine(NextLine(&rest), out);
  for (std::string_view line = NextLine(&rest); status.ok() && !line.empty(); line = NextLine(&rest)) {
    status = ParseHeaderLine(line, out);
  }
  size_t body_length = 0;
  if (status.ok()) status = InterpretHeaders(limits, out, &body_length);
  if (!status.ok()) {
    *error = std::move(status);
    return ParseResult::kError;
  }
  if (data.size() - header_end < body_length) {
    *consumed = p.whole = header_end + body_length;
    return ParseResult::kIncomplete;
  }
  out->body.assign(data.substr(header_end, body_length));
  *consumed = header_end + body_length;
  return ParseResult::kDone;
}

std::string_view StatusText(int code) {
  switch (code) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

}  // namespace chatpipe::http
