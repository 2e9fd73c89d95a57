#include "ingress/web_security.h"

#include <algorithm>
#include <cctype>

namespace chatpipe {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view WithoutTrailingSlash(std::string_view s) {
  if (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return s;
}

}  // namespace

bool IsPlainHost(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  return std::all_of(host.begin(), host.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
  });
}

std::string PagePolicy(const http::Request& request) {
  std::string connect = "'self'";
  if (const std::string* host = request.Header("host"); host && IsPlainHost(*host))
    connect += " ws://" + *host + " wss://" + *host;
  return "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "
         "img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self'; manifest-src 'self'; connect-src " +
         connect + "; base-uri 'none'; form-action 'self'; frame-ancestors 'none'\r\n";
}

bool OriginAllowed(const http::Request& request, const std::vector<std::string>& allowed) {
  const std::string* origin = request.Header("origin");
  if (!origin) return true;
  std::string want = Lower(WithoutTrailingSlash(*origin));
  if (const std::string* host = request.Header("host"); host && IsPlainHost(*host)) {
    std::string served = Lower(*host);
    if (want == "http://" + served || want == "https://" + served) return true;
  }
  return std::any_of(allowed.begin(), allowed.end(),
                     [&](const std::string& a) { return Lower(WithoutTrailingSlash(a)) == want; });
}

}  // namespace chatpipe
