#include "ingress/media_api.h"

#include <memory>

#include "common/config.h"
#include "common/events.h"
#include "common/message_id.h"
#include "common/metrics.h"
#include "ingress/api_support.h"
#include "ingress/byte_range.h"
#include "ingress/connection.h"
#include "ingress/db_round_trip.h"
#include "ingress/loop.h"
#include "ingress/rate_limits.h"
#include "ingress/routes.h"
#include "ingress/services.h"
#include "media/image.h"
#include "storage/media_store.h"

namespace chatpipe {
namespace {

Metric& uploads_stored = Counter("chatpipe_ingress_uploads_total", "images uploaded, decoded and stored");
Metric& uploads_refused = Counter("chatpipe_ingress_uploads_refused_total", "uploads refused: not an image, too large, ...");
Metric& speech_requests = Counter("chatpipe_ingress_speech_requests_total", "speech asked for a message not yet spoken");

// Objects never change (their name is their hash): caches may keep them for a year, a private room's
// only in the reader's own cache.
constexpr std::string_view kPublicCache = "Cache-Control: public, max-age=31536000, immutable\r\n";
constexpr std::string_view kPrivateCache = "Cache-Control: private, max-age=31536000, immutable\r\n";

void WriteImageFields(JsonWriter& w, const UploadRow& u) {
  w.Key("url");
  w.String(ObjectPath(u.room, u.image.key).c_str());
  w.Key("thumbnail_url");
  w.String(ObjectPath(u.room, u.thumbnail.key).c_str());
  w.Key("width");
  w.Int(u.width);
  w.Key("height");
  w.Int(u.height);
  w.Key("bytes");
  w.Int64(u.image.bytes);
  w.Key("type");
  w.String(u.image.type.c_str());
}

std::string UploadJson(const UploadRow& u) {
  return Json([&](JsonWriter& w) {
    w.StartObject();
    w.Key("id");
    w.String(std::to_string(u.id).c_str());
    WriteImageFields(w, u);
    w.Key("sha256");
    w.String(u.image.key.c_str());
    w.EndObject();
  });
}

// Decodes, strips and thumbnails the image, then stores both objects (durable before any row names
// them). Runs on the media pool; `claim` holds the body's place in the UploadBudget until it is done.
Result<UploadRow> ProcessUpload(ObjectStore& store, const std::string& body, const std::string& mime,
                                const ImageLimits& limits) {
  auto image = ProcessImage(body, mime, limits);
  if (!image.ok()) return image.status();
  UploadRow u;
  u.image = {ObjectKey(image->bytes), std::string(MimeOf(image->type)), static_cast<int64_t>(image->bytes.size())};
  u.thumbnail = {ObjectKey(image->thumbnail), image->thumbnail_mime, static_cast<int64_t>(image->thumbnail.size())};
  u.width = image->width;
  u.height = image->height;
  if (Status s = store.Put(u.image.key, image->bytes, u.image.type); !s.ok()) return s;
  if (Status s = store.Put(u.thumbnail.key, image->thumbnail, u.thumbnail.type); !s.ok()) return s;
  return u;
}

void RecordAndAnswer(Reply reply, UploadRow upload) {
  RunOnDb<UploadRow>(
      reply.loop->tasks(), reply.loop->db(),
      [upload](PgConn& pg) -> Result<UploadRow> {
        if (Status s = RecordUpload(pg, upload); !s.ok()) return s;
        return upload;
      },
      [reply](Result<UploadRow> stored) {
        if (!stored.ok()) return reply(stored.status());
        uploads_stored.Add();
        reply(201, UploadJson(*stored));
      });
}

// Answers `conn_id`'s request with an object's bytes (or part of them).
void SendObject(Loop* loop, uint64_t conn_id, const StoredObject& object, const RangeRequest& range,
                std::string headers, Result<std::string> bytes) {
  Connection* c = loop->FindConnection(conn_id);
  if (!c) return;
  if (!bytes.ok()) return c->RespondError(bytes.status());
  if (range.kind == RangeRequest::Kind::kPart)
    headers += "Content-Range: bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" +
               std::to_string(object.bytes) + "\r\n";
  c->Respond(range.kind == RangeRequest::Kind::kPart ? 206 : 200, object.type, *bytes, headers);
}

bool EtagMatches(const std::string* if_none_match, std::string_view etag) {
  if (!if_none_match) return false;
  return *if_none_match == "*" || if_none_match->find(etag) != std::string::npos;
}

void ServeObject(Connection& conn, const http::Request& req, int64_t room, const std::string& key, int64_t user,
                 bool signed_in) {
  Loop* loop = &conn.loop();
  const uint64_t id = conn.id();
  std::string range_header = req.Header("range") ? *req.Header("range") : "";
  std::string if_none_match = req.Header("if-none-match") ? *req.Header("if-none-match") : "";
  bool conditional = req.Header("if-none-match") != nullptr;
  loop->access().Check(room, user, [=](Status s, const RoomFacts& facts) {
    Connection* c = loop->FindConnection(id);
    if (!c) return;
    if (!s.ok() && facts.is_private && !signed_in)
      return c->RespondError(Status::Unauthenticated("this room is private: send a bearer token"));
    if (!s.ok()) return c->RespondError(s);
    OnDb<std::optional<StoredObject>>(
        *c, [room, key](PgConn& pg) { return FindRoomObject(pg, room, key); },
        [=](Reply reply, Result<std::optional<StoredObject>> found) {
          if (!found.ok()) return reply(found.status());
          if (!*found) return reply(Status::NotFound("object_not_found", "no such object in this room"));
          const StoredObject object = **found;
          std::string headers = "ETag: \"" + key + "\"\r\nAccept-Ranges: bytes\r\n";
          headers += facts.is_private ? kPrivateCache : kPublicCache;
          Connection* c = loop->FindConnection(id);
          if (!c) return;
          if (conditional && EtagMatches(&if_none_match, "\"" + key + "\"")) return c->Respond(304, object.type, "", headers);
          RangeRequest range = ParseRange(range_header, static_cast<uint64_t>(object.bytes));
          if (range.kind == RangeRequest::Kind::kUnsatisfiable)
            return c->RespondError(Status::InvalidArgument("range_not_satisfiable", "the range is past the object's end"),
                                   "Content-Range: bytes */" + std::to_string(object.bytes) + "\r\n");
          std::optional<ByteRange> part;
          if (range.kind == RangeRequest::Kind::kPart) part = ByteRange{range.first, range.last};
          ObjectStore* store = loop->services().objects.get();
          RunOnPool<std::string>(
              loop->tasks(), *loop->services().object_reads, [store, key, part] { return store->Get(key, part); },
              [loop, id, object, range, headers](Result<std::string> bytes) {
                SendObject(loop, id, object, range, headers, std::move(bytes));
              });
        });
  });
}

// Produces a speech request; `done` runs on the loop once Kafka has it.
void ProduceSpeechRequest(Loop* loop, const SpeechRequest& request, std::function<void(Status)> done) {
  Services& services = loop->services();
  if (!loop->tasks().Admit()) return done(Busy());
  services.producer->Produce(services.config.common.Topic(kSpeechTopic), std::to_string(request.room),
                             EncodeSpeechRequest(request), [loop, done = std::move(done)](Status s) mutable {
                               loop->tasks().Answer([s, done = std::move(done)] { done(s); });
                             });
}

void AnswerSpeech(Reply reply, const TokenUser& user, uint64_t message, const SpeechTarget& target) {
  if (target.audio) {
    return reply(200, Json([&](JsonWriter& w) {
                   w.StartObject();
                   w.Key("status");
                   w.String("ready");
                   w.Key("url");
                   w.String(ObjectPath(target.room, target.audio->key).c_str());
                   w.Key("duration_ms");
                   w.Int64(target.duration_ms);
                   w.EndObject();
                 }));
  }
  // What the worker would skip is refused here, not acknowledged for audio that never comes.
  const size_t max_bytes = reply.loop->services().config.media.speech_max_text_bytes;
  if (target.text_bytes == 0) return reply(Status::Refused("unspeakable", "the message has no text to read aloud"));
  if (static_cast<size_t>(target.text_bytes) > max_bytes)
    return reply(Status::Refused("unspeakable", "the message's text is longer than the " + std::to_string(max_bytes) +
                                                    " bytes read aloud"));
  SpeechRequest request{message, target.room, user.id, static_cast<int64_t>(NowMs())};
  ProduceSpeechRequest(reply.loop, request, [reply](Status s) {
    if (!s.ok()) return reply(s);
    speech_requests.Add();
    reply(202, R"({"status":"pending"})");
  });
}

}  // namespace

void AddMediaOptions(CLI::App* app, MediaConfig* c) {
  app->add_option("--max-upload-bytes", c->max_upload_bytes, "largest image upload; larger: 413 before the body is read")
      ->envname("CHATPIPE_MAX_UPLOAD_BYTES")->check(CLI::Range(size_t{1024}, size_t{1} << 30))->capture_default_str();
  app->add_option("--upload-memory", c->upload_memory, "upload bodies one process holds at once; more uploads: 503")
      ->envname("CHATPIPE_UPLOAD_MEMORY")->capture_default_str();
  app->add_option("--speech-max-text-bytes", c->speech_max_text_bytes,
                  "longest message text read aloud, in bytes, as the speech worker's --max-text-bytes: a request "
                  "for a longer one is refused (422 unspeakable)")
      ->envname("CHATPIPE_SPEECH_MAX_TEXT_BYTES")->check(CLI::Range(size_t{1}, size_t{1} << 20))->capture_default_str();
  app->add_option("--max-pixels", c->max_pixels, "width x height x frames an image may have (decompression bombs: 413)")
      ->envname("CHATPIPE_MAX_PIXELS")->capture_default_str();
  app->add_option("--upload-timeout-ms", c->upload_timeout_ms, "an upload's body must arrive within this (408)")
      ->envname("CHATPIPE_UPLOAD_TIMEOUT_MS")->check(CLI::Range(1000, 3600000))->capture_default_str();
  app->add_option("--media-threads", c->media_threads, "threads decoding and storing uploads")
      ->envname("CHATPIPE_MEDIA_THREADS")->check(CLI::Range(1, 64))->capture_default_str();
  app->add_option("--object-threads", c->object_threads, "threads reading the objects being served")
      ->envname("CHATPIPE_OBJECT_THREADS")->check(CLI::Range(1, 256))->capture_default_str();
  app->add_option("--media-queue", c->pool_queue, "jobs waiting for the media or object threads; more: 503")
      ->envname("CHATPIPE_MEDIA_QUEUE")->check(CLI::Range(1, 100000))->capture_default_str();
  AddObjectStoreOptions(app, &c->objects);
}

bool IsUploadRequest(std::string_view method, std::string_view path) {
  std::string what;
  return method == "POST" && ParseRoomPath(path, &what) && what == "uploads";
}

void UploadRoute(Connection& conn, http::Request req, const TokenUser& user, int64_t room) {
  const std::string* type = req.Header("content-type");
  if (!type || !ImageTypeFromMime(*type)) {
    uploads_refused.Add();
    return conn.RespondError(Status::InvalidArgument("unsupported_type", "upload a PNG, JPEG, GIF or WebP image"));
  }
  if (req.body.empty()) {
    uploads_refused.Add();
    return conn.RespondError(Status::InvalidArgument("empty_body", "the upload has no bytes"));
  }
  // Moved, not copied: the body (up to --max-upload-bytes) and its budget claim go to the media
  // pool together, and are freed together when the job is done.
  auto body = std::make_shared<const std::string>(std::move(req.body));
  std::shared_ptr<UploadClaim> claim = conn.TakeUploadClaim();
  Loop* loop = &conn.loop();
  const MediaConfig& media = loop->services().config.media;
  AdmitRequest(
      conn, "uploads", "you uploaded too many images; try again later",
      {UserBucket(*loop, "uploads", user.id, loop->services().config.limits.uploads_per_user)},
      [loop, user, room, body, claim, mime = *type, media](Connection& c) {
        ImageLimits limits;
        limits.max_bytes = media.max_upload_bytes;
        limits.max_pixels = media.max_pixels;
        ObjectStore* store = loop->services().objects.get();
        Reply reply{loop, c.id()};
        RunOnPool<UploadRow>(
            loop->tasks(), *loop->services().media,
            [store, body, claim, mime, limits]() { return ProcessUpload(*store, *body, mime, limits); },
            [reply, user, room](Result<UploadRow> upload) {
              if (!upload.ok()) {
                uploads_refused.Add();
                return reply(upload.status());
              }
              auto id = reply.loop->services().NextId();
              if (!id.ok()) return reply(id.status());
              upload->id = *id;
              upload->room = room;
              upload->user = user.id;
              RecordAndAnswer(reply, std::move(*upload));
            });
      });
}

void ObjectRoute(Connection& conn, const http::Request& req) {
  std::string what;
  int64_t room = ParseRoomPath(req.path, &what);
  constexpr std::string_view kObjects = "objects/";
  std::string key = what.substr(std::min(what.size(), kObjects.size()));
  if (room <= 0 || what.rfind(kObjects, 0) != 0 || !IsObjectKey(key))
    return conn.RespondError(Status::NotFound("object_not_found", "no such object"));
  // Public, and each read is a database lookup and an object read: limited per address, as the
  // board's public reads are.
  Loop* loop = &conn.loop();
  AdmitRequest(
      conn, "object_reads", "too many image reads from your address; try again later",
      {AddressBucket(*loop, "object_reads", conn.ClientAddress(), loop->services().config.limits.object_reads_per_address)},
      [req, room, key](Connection& c) {
        if (!req.Header("authorization")) return ServeObject(c, req, room, key, 0, false);
        Authenticate(c, req, [req, room, key](Connection& c, const TokenUser& user) {
          ServeObject(c, req, room, key, user.id, true);
        });
      });
}

void SpeechRoute(Connection& conn, const http::Request&, const TokenUser& user, uint64_t message) {
  Loop* loop = &conn.loop();
  AdmitRequest(
      conn, "speech", "you asked for too many spoken messages; try again later",
      {UserBucket(*loop, "speech", user.id, loop->services().config.limits.speech_per_user)},
      [loop, user, message](Connection& c) {
        OnDb<SpeechTarget>(
            c, [message](PgConn& pg) { return FindSpeechTarget(pg, message); },
            [loop, user, message](Reply reply, Result<SpeechTarget> target) {
              if (!target.ok()) return reply(target.status());
              // Whoever may read the message may hear it: the room's check, as for its history.
              loop->access().Check(target->room, user.id, [reply, user, message, t = *target](Status s, const RoomFacts&) {
                if (!s.ok()) return reply(s);
                AnswerSpeech(reply, user, message, t);
              });
            });
      });
}

void ResolveImage(Loop& loop, uint64_t upload, int64_t room, int64_t user, std::function<void(Result<std::string>)> done) {
  RunOnDb<std::string>(
      loop.tasks(), loop.db(),
      [upload, room, user](PgConn& pg) -> Result<std::string> {
        auto u = FindUpload(pg, upload);
        if (!u.ok()) return u.status();
        // Only its uploader may post it, and only in its room: an upload id is no capability.
        if (u->room != room || u->user != user)
          return Status::NotFound("upload_not_found", "no such upload of yours in this room");
        return Json([&](JsonWriter& w) {
          w.StartObject();
          w.Key("id");
          w.String(std::to_string(u->id).c_str());
          WriteImageFields(w, *u);
          w.EndObject();
        });
      },
      std::move(done));
}

}  // namespace chatpipe
