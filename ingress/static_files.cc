#include "ingress/static_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ingress/connection.h"
#include "ingress/loop.h"

namespace chatpipe {
namespace {

std::string ContentType(const std::string& ext) {
  static const std::map<std::string, std::string> types = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
      {".ico", "image/x-icon"}, {".webp", "image/webp"}, {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"}, {".map", "application/json"}};
  auto it = types.find(ext);
  return it == types.end() ? "application/octet-stream" : it->second;
}

}  // namespace

Result<std::unique_ptr<StaticFiles>> StaticFiles::Load(const std::string& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return Status::NotFound("no_web_root", "web root " + root + " is not a directory");
  auto files = std::make_unique<StaticFiles>();
  for (const auto& entry : fs::recursive_directory_iterator(root, ec)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    std::string rel = "/" + fs::relative(entry.path(), root).generic_string();
    File f{body.str(), ContentType(entry.path().extension().string()),
           rel.rfind("/assets/", 0) == 0 ? "public, max-age=31536000, immutable" : "no-cache"};
    files->files_.emplace(rel, std::move(f));
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

void ServeStaticFile(Connection& conn, const http::Request& request) {
  const StaticFiles* web = conn.loop().services().web.get();
  const StaticFiles::File* file = web ? web->Find(request.path) : nullptr;
  if (!file) return conn.RespondError(Status::NotFound("not_found", "no such file: " + request.path));
  conn.Respond(200, file->content_type, file->body, "Cache-Control: " + file->cache_control + "\r\n");
}

}  // namespace chatpipe
