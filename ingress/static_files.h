// StaticFiles: the browser client (web/dist), read into memory once at start-up and served from there,
// so serving a file never touches the disk from an event loop. Shared read-only by every loop.
//
// Files under assets/ carry a content hash in their names (the web build does that) and are served
// as immutable for a year; everything else, index.html first, must be revalidated. Paths that name
// no file get index.html, so the client's routes survive a reload.
//
// The web build also writes precompressed copies beside the files it can shrink (app.js.gz,
// app.js.br). They are not served under their own names: they become the gzip and brotli variants
// of the original, chosen per request from Accept-Encoding, so compression costs nothing at run time.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "ingress/http_request.h"

namespace chatpipe {

class Connection;

class StaticFiles {
 public:
  struct File {
    std::string body;
    std::string gzip;    // the .gz variant, empty when the build made none
    std::string brotli;  // the .br variant, likewise
    std::string content_type;
    std::string cache_control;
  };
  // What to answer for one request: a body owned by the StaticFiles, and its headers.
  struct Response {
    const std::string* body;
    std::string_view content_type;
    std::string_view cache_control;
    std::string_view content_encoding;  // "br", "gzip" or empty for the file as it is
    bool vary;                          // the file has variants: caches must key on Accept-Encoding
  };

  static Result<std::unique_ptr<StaticFiles>> Load(const std::string& root);
  const File* Find(const std::string& path) const;  // with the index.html fallback
  // The file for `path` in the best encoding `accept_encoding` (the header's value, or empty) allows.
  std::optional<Response> Select(const std::string& path, std::string_view accept_encoding) const;
  size_t size() const { return files_.size(); }

 private:
  std::map<std::string, File> files_;  // "/index.html", "/assets/app-3f2a.js", ...
};

// Which coding of those on offer Accept-Encoding prefers: "br", "gzip", or empty for identity.
// Understands q-values ("gzip;q=0" refuses gzip) and "*"; with equal weights brotli wins.
std::string_view ChooseEncoding(std::string_view accept_encoding, bool have_brotli, bool have_gzip);

void ServeStaticFile(Connection& conn, const http::Request& request);

}  // namespace chatpipe
