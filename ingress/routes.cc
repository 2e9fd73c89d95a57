#include "ingress/routes.h"

#include <charconv>

namespace chatpipe {
namespace {

struct Route {
  std::string_view path;
  std::string_view allow;
};
constexpr Route kRoutes[] = {
    {"/livez", "GET"},
    {"/readyz", "GET"},
    {"/healthz", "GET"},
    {"/metrics", "GET"},
    {"/ws", "GET"},
    {"/api/users", "POST"},
    {"/api/users/me", "GET, PATCH"},
    {"/api/users/me/mentions", "GET"},
    {"/api/users/verify", "GET"},
    {"/api/users/verify/resend", "POST"},
    {"/api/sessions", "POST, DELETE"},
    {"/api/sessions/guest", "POST"},
    {"/api/sessions/renew", "POST"},
    {"/api/rooms", "GET, POST"},
    {"/api/board", "GET"},
    {"/api/board/meta", "GET"},
    {"/api/board/pixels", "PUT"},
};

bool IsApi(std::string_view path) { return path == "/api" || path.substr(0, 5) == "/api/"; }

// /api/mentions/{id}/read
bool IsMentionReadPath(std::string_view path) {
  constexpr std::string_view kPrefix = "/api/mentions/", kSuffix = "/read";
  if (path.substr(0, kPrefix.size()) != kPrefix || path.size() <= kPrefix.size() + kSuffix.size()) return false;
  std::string_view id = path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
  int64_t n = 0;
  auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
  return ec == std::errc() && p == id.data() + id.size() && path.substr(path.size() - kSuffix.size()) == kSuffix;
}

}  // namespace

uint64_t ParseSpeechPath(std::string_view path) {
  constexpr std::string_view kPrefix = "/api/messages/", kSuffix = "/speech";
  if (path.substr(0, kPrefix.size()) != kPrefix || path.size() <= kPrefix.size() + kSuffix.size() ||
      path.substr(path.size() - kSuffix.size()) != kSuffix)
    return 0;
  std::string_view digits = path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
  uint64_t id = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  return ec == std::errc() && p == digits.data() + digits.size() ? id : 0;
}

bool ParsePixelPath(std::string_view path, int* x, int* y) {
  constexpr std::string_view kPrefix = "/api/board/pixels/";
  if (path.substr(0, kPrefix.size()) != kPrefix) return false;
  path.remove_prefix(kPrefix.size());
  const char* end = path.data() + path.size();
  auto [p, ec] = std::from_chars(path.data(), end, *x);
  if (ec != std::errc() || p == path.data() || p == end || *p != '/') return false;
  auto [q, ec2] = std::from_chars(p + 1, end, *y);
  return ec2 == std::errc() && q != p + 1 && q == end;
}

int64_t ParseRoomPath(std::string_view path, std::string* what) {
  constexpr std::string_view kPrefix = "/api/rooms/";
  if (path.substr(0, kPrefix.size()) != kPrefix) return 0;
  path.remove_prefix(kPrefix.size());
  int64_t id = 0;
  auto [p, ec] = std::from_chars(path.data(), path.data() + path.size(), id);
  if (ec != std::errc() || id <= 0) return 0;
  if (p == path.data() + path.size()) {
    what->clear();  // the room itself
    return id;
  }
  if (*p != '/' || p + 1 == path.data() + path.size()) return 0;
  what->assign(p + 1, path.data() + path.size());
  return id;
}

std::string_view AllowedMethods(std::string_view path) {
  for (const Route& r : kRoutes)
    if (r.path == path) return r.allow;
  std::string what;
  if (ParseRoomPath(path, &what)) {
    if (what.empty()) return "GET";
    if (what == "messages") return "GET, POST";
    if (what == "members") return "POST";
    if (what == "stats") return "GET";
    if (what == "uploads") return "POST";
    if (what.rfind("objects/", 0) == 0) return "GET";
    return {};
  }
  if (IsMentionReadPath(path)) return "POST";
  if (ParseSpeechPath(path)) return "POST";
  if (int x, y; ParsePixelPath(path, &x, &y)) return "GET";
  return IsApi(path) ? std::string_view{} : "GET, HEAD";
}

bool MethodAllowed(std::string_view allow, std::string_view method) {
  while (!allow.empty()) {
    size_t comma = allow.find(", ");
    if (allow.substr(0, comma) == method) return true;
    allow = comma == std::string_view::npos ? std::string_view{} : allow.substr(comma + 2);
  }
  return false;
}

}  // namespace chatpipe
