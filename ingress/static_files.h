// StaticFiles: the browser client (web/dist), read into memory once at start-up and served from there,
// so serving a file never touches the disk from an event loop. Shared read-only by every loop.
//
// Files under assets/ carry a content hash in their names (the web build does that) and are served
// as immutable for a year; everything else, index.html first, must be revalidated. Paths that name
// no file get index.html, so the client's routes survive a reload.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "common/status.h"
#include "ingress/http_request.h"

namespace chatpipe {

class Connection;

class StaticFiles {
 public:
  struct File {
    std::string body;
    std::string content_type;
    std::string cache_control;
  };
  static Result<std::unique_ptr<StaticFiles>> Load(const std::string& root);
  const File* Find(const std::string& path) const;  // with the index.html fallback
  size_t size() const { return files_.size(); }

 private:
  std::map<std::string, File> files_;  // "/index.html", "/assets/app-3f2a.js", ...
};

void ServeStaticFile(Connection& conn, const http::Request& request);

}  // namespace chatpipe
