// The media routes of the HTTP API (docs/protocol.md, docs/media.md): image uploads, objects served
// by content, and spoken messages; and the check that turns a message's `image` (an upload id) into
// the image its frames carry.
//
// Decoding (libvips, media/image.h) and the object store's blocking I/O run on two WorkPools of
// their own, never on a loop: `media` decodes and stores uploads, `objects` reads what is served, so
// a queue of decodes never delays an image being shown. Each pool's queue is bounded (503 when full).
// An upload's body counts against the process's UploadBudget from its headers to its answer.
#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "common/token.h"
#include "ingress/http_request.h"
#include "ingress/room_access.h"
#include "media/speech.h"
#include "storage/object_store.h"

namespace chatpipe {

class Connection;
class Loop;

struct MediaConfig {
  size_t max_upload_bytes = 5 << 20;   // an image upload's body; larger: 413 from Content-Length
  size_t upload_memory = 64 << 20;     // upload bodies one process holds at once; more: 503
  uint64_t max_pixels = 40'000'000;    // width x height x frames an image may declare; more: 413
  int upload_timeout_ms = 60000;       // an upload's body must arrive within this (408)
  int media_threads = 2;               // decode and store uploads
  int object_threads = 4;              // read objects being served
  int pool_queue = 64;                 // jobs waiting for either pool; more: 503
  // The speech worker's --max-text-bytes (the same CHATPIPE_SPEECH_MAX_TEXT_BYTES): longer texts are
  // refused here, not acknowledged for a worker that would skip them.
  size_t speech_max_text_bytes = SpeechLimits{}.max_text_bytes;
  ObjectStoreConfig objects;
};

void AddMediaOptions(CLI::App* app, MediaConfig* config);

// Whether a request is an upload, which may carry up to max_upload_bytes (http::Limits::is_upload).
bool IsUploadRequest(std::string_view method, std::string_view path);

// POST /api/rooms/{room}/uploads, once the user may post in the room.
void UploadRoute(Connection& conn, http::Request req, const TokenUser& user, int64_t room);
// GET /api/rooms/{room}/objects/{key}: a public room's objects to anyone, a private room's to its
// members (the token is then required).
void ObjectRoute(Connection& conn, const http::Request& req);
// POST /api/messages/{id}/speech.
void SpeechRoute(Connection& conn, const http::Request& req, const TokenUser& user, uint64_t message);

// The image a message may carry: upload `upload` must be `user`'s, made in `room`. `done` gets the
// image object's JSON (ChatEvent::image) or why not, on the loop.
void ResolveImage(Loop& loop, uint64_t upload, int64_t room, int64_t user,
                  std::function<void(Result<std::string>)> done);

}  // namespace chatpipe
