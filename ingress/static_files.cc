#include "ingress/static_files.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ingress/connection.h"
#include "ingress/loop.h"
#include "ingress/web_security.h"

namespace chatpipe {
namespace {

std::string ContentType(const std::string& ext) {
  static const std::map<std::string, std::string> types = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"}, {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"}, {".png", "image/png"}, {".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"},
      {".gif", "image/gif"}, {".webp", "image/webp"}, {".avif", "image/avif"}, {".ico", "image/x-icon"},
      {".woff", "font/woff"}, {".woff2", "font/woff2"}, {".wasm", "application/wasm"},
      {".txt", "text/plain; charset=utf-8"}, {".map", "application/json"}};
  auto it = types.find(ext);
  return it == types.end() ? "application/octet-stream" : it->second;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// The weight of one Accept-Encoding element's parameters: q=0.5 -> 500; no q -> 1000. A malformed
// q counts as 0: a client that cannot spell its preference gets the file as it is.
int Weight(std::string_view params) {
  while (!params.empty()) {
    size_t semi = params.find(';');
    std::string_view param = Trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (param.size() < 2 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') continue;
    std::string_view value = Trim(param.substr(2));
    double q = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), q);
    if (ec != std::errc() || end != value.data() + value.size() || q < 0 || q > 1) return 0;
    return static_cast<int>(q * 1000 + 0.5);
  }
  return 1000;
}

}  // namespace

std::string_view ChooseEncoding(std::string_view accept_encoding, bool have_brotli, bool have_gzip) {
  int br = -1, gzip = -1, any = -1;  // -1: not named
  while (!accept_encoding.empty()) {
    size_t comma = accept_encoding.find(',');
    std::string_view element = accept_encoding.substr(0, comma);
    accept_encoding = comma == std::string_view::npos ? std::string_view{} : accept_encoding.substr(comma + 1);
    size_t semi = element.find(';');
    std::string_view coding = Trim(element.substr(0, semi));
    int w = Weight(semi == std::string_view::npos ? std::string_view{} : element.substr(semi + 1));
    if (EqualsNoCase(coding, "br")) br = std::max(br, w);
    else if (EqualsNoCase(coding, "gzip") || EqualsNoCase(coding, "x-gzip")) gzip = std::max(gzip, w);
    else if (coding == "*") any = std::max(any, w);
  }
  if (br < 0) br = any;
  if (gzip < 0) gzip = any;
  if (!have_brotli) br = -1;
  if (!have_gzip) gzip = -1;
  if (br > 0 && br >= gzip) return "br";
  if (gzip > 0) return "gzip";
  return {};
}

Result<std::unique_ptr<StaticFiles>> StaticFiles::Load(const std::string& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return Status::NotFound("no_web_root", "web root " + root + " is not a directory");
  std::map<std::string, std::string> contents;  // every regular file, by its path under the root
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    if (!in) return Status::Internal("could not read " + it->path().string());
    contents.emplace("/" + fs::relative(it->path(), root).generic_string(), body.str());
  }
  if (ec) return Status::Internal("could not list web root " + root + ": " + ec.message());
  // A compressed copy of a file that exists is a variant of it, not a file of its own.
  auto is_variant = [&contents](const std::string& path) {
    for (std::string_view suffix : {".gz", ".br"})
      if (EndsWith(path, suffix) && contents.count(path.substr(0, path.size() - suffix.size()))) return true;
    return false;
  };
  auto files = std::make_unique<StaticFiles>();
  for (auto& [path, body] : contents) {
    if (is_variant(path)) continue;
    File f{body, {}, {}, ContentType(fs::path(path).extension().string()),
           path.rfind("/assets/", 0) == 0 ? "public, max-age=31536000, immutable" : "no-cache"};
    if (auto gz = contents.find(path + ".gz"); gz != contents.end()) f.gzip = gz->second;
    if (auto br = contents.find(path + ".br"); br != contents.end()) f.brotli = br->second;
    files->files_.emplace(path, std::move(f));
  }
  return files;
}

const StaticFiles::File* StaticFiles::Find(const std::string& path) const {
  auto it = files_.find(path == "/" ? "/index.html" : path);
  if (it != files_.end()) return &it->second;
  if (path.rfind("/assets/", 0) == 0) return nullptr;  // a missing asset is a 404, not the app
  it = files_.find("/index.html");
  return it == files_.end() ? nullptr : &it->second;
}

std::optional<StaticFiles::Response> StaticFiles::Select(const std::string& path,
                                                         std::string_view accept_encoding) const {
  const File* file = Find(path);
  if (!file) return std::nullopt;
  Response r{&file->body, file->content_type, file->cache_control, {}, !file->gzip.empty() || !file->brotli.empty()};
  r.content_encoding = ChooseEncoding(accept_encoding, !file->brotli.empty(), !file->gzip.empty());
  if (r.content_encoding == "br") r.body = &file->brotli;
  if (r.content_encoding == "gzip") r.body = &file->gzip;
  return r;
}

void ServeStaticFile(Connection& conn, const http::Request& request) {
  const StaticFiles* web = conn.loop().services().web.get();
  const std::string* accept = request.Header("accept-encoding");
  auto r = web ? web->Select(request.path, accept ? std::string_view(*accept) : std::string_view{}) : std::nullopt;
  if (!r) return conn.RespondError(Status::NotFound("not_found", "no such file: " + request.path));
  std::string headers = "Cache-Control: " + std::string(r->cache_control) + "\r\n";
  if (!r->content_encoding.empty()) headers += "Content-Encoding: " + std::string(r->content_encoding) + "\r\n";
  if (r->vary) headers += "Vary: Accept-Encoding\r\n";
  headers += PagePolicy(request);
  conn.Respond(200, r->content_type, *r->body, headers);
}

}  // namespace chatpipe
