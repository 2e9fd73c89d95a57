#include "common/redact.h"

#include <algorithm>
#include <cctype>

namespace chatpipe {
namespace {

bool IsSecretParam(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (std::string_view s : {"token", "access_token", "password", "secret", "signature", "sig", "x-amz-signature",
                             "x-amz-credential", "x-amz-security-token"})
    if (lower == s) return true;
  return false;
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  std::string out;
  size_t scheme = url.find("://");
  size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  size_t path = std::min(url.find_first_of("/?#", start), url.size());
  std::string_view authority = url.substr(start, path - start);
  size_t at = authority.rfind('@');  // the last one: a password may hold an unescaped '@'
  size_t colon = authority.find(':');
  if (at != std::string_view::npos && colon != std::string_view::npos && colon < at) {
    out.append(url.substr(0, start + colon + 1)).append("***").append(url.substr(start + at, path - start - at));
  } else {
    out.append(url.substr(0, path));
  }
  // The query: each name=value pair, a secret's value replaced; the fragment stays as it is.
  size_t query = url.find('?', path);
  if (query == std::string_view::npos) return out.append(url.substr(path));
  size_t fragment = std::min(url.find('#', query), url.size());
  out.append(url.substr(path, query + 1 - path));
  for (size_t i = query + 1; i < fragment;) {
    size_t end = std::min(url.find('&', i), fragment);
    std::string_view pair = url.substr(i, end - i);
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && IsSecretParam(pair.substr(0, eq)))
      out.append(pair.substr(0, eq + 1)).append("***");
    else
      out.append(pair);
    if (end < fragment) out.push_back('&');
    i = end + 1;
  }
  return out.append(url.substr(fragment));
}

std::string RedactConninfo(std::string_view conninfo) {
  if (conninfo.rfind("postgresql://", 0) == 0 || conninfo.rfind("postgres://", 0) == 0) return RedactUrl(conninfo);
  // key = value pairs; a value is a word or a single-quoted string with \' and \\ escapes.
  std::string out;
  size_t i = 0;
  while (i < conninfo.size()) {
    size_t key_start = i;
    while (i < conninfo.size() && conninfo[i] != '=') ++i;
    std::string_view key = conninfo.substr(key_start, i - key_start);
    size_t k0 = key.find_first_not_of(" \t\n"), k1 = key.find_last_not_of(" \t\n");
    std::string_view name = k0 == std::string_view::npos ? std::string_view() : key.substr(k0, k1 - k0 + 1);
    out.append(key);
    if (i == conninfo.size()) break;
    out.push_back('=');
    ++i;
    while (i < conninfo.size() && (conninfo[i] == ' ' || conninfo[i] == '\t')) out.push_back(conninfo[i++]);
    size_t value_start = i;
    if (i < conninfo.size() && conninfo[i] == '\'') {
      for (++i; i < conninfo.size() && conninfo[i] != '\''; ++i)
        if (conninfo[i] == '\\') ++i;
      i = std::min(i + 1, conninfo.size());
    } else {
      while (i < conninfo.size() && conninfo[i] != ' ' && conninfo[i] != '\t' && conninfo[i] != '\n') ++i;
    }
    out.append(name == "password" ? std::string_view("***") : conninfo.substr(value_start, i - value_start));
  }
  return out;
}

std::string RedactSecret(std::string_view text, std::string_view secret) {
  std::string out;
  size_t i = 0;
  for (size_t hit; !secret.empty() && (hit = text.find(secret, i)) != std::string_view::npos; i = hit + secret.size())
    out.append(text.substr(i, hit - i)).append("***");
  return out.append(text.substr(i));
}

}  // namespace chatpipe
