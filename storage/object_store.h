// ObjectStore: where uploaded images, their thumbnails and synthesised speech live, by content.
//
// Every object's key is the lower-case hex SHA-256 of its bytes, so the same bytes are stored once and
// an object never changes: it is served immutable, with its hash as the ETag. Two stores implement it:
// a local directory (the default, for one machine) and any S3-compatible service (libcurl's SigV4).
// Which objects a client may read is not the store's business: PostgreSQL records which room each
// object belongs to (storage/migrations/011_media.sql), and ingress checks that before it reads.
//
// Implementations are thread-safe and blocking: call them from a WorkPool, never on an event loop.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace chatpipe {

// Bytes first..last of an object, both inclusive (as in an HTTP Range header).
struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  // Stores `bytes` under `key` (their SHA-256, hex) and returns once they are durable. Storing a key
  // that exists already succeeds without writing: its bytes are these.
  virtual Status Put(std::string_view key, std::string_view bytes, std::string_view content_type) = 0;
  // The object's bytes, or only `range` of them (clamped to the object's end). NotFound
  // ("object_not_found") when there is no such object.
  virtual Result<std::string> Get(std::string_view key, std::optional<ByteRange> range) = 0;
  // Where the store is, for logs ("dir /var/lib/chatpipe/objects", "s3 http://host:8333/bucket").
  virtual std::string Describe() const = 0;
};

// Where objects go. With an S3 endpoint set, S3; else the local directory.
struct ObjectStoreConfig {
  std::string dir = "objects";     // --objects-dir, CHATPIPE_OBJECTS_DIR
  std::string s3_endpoint;         // --s3-endpoint, CHATPIPE_S3_ENDPOINT (http://127.0.0.1:8333)
  // Empty S3 fields are filled from the config file, then by the defaults (s3_object_store.h): a
  // default here would hide the file's value.
  std::string s3_bucket;           // --s3-bucket, CHATPIPE_S3_BUCKET (default chatpipe)
  std::string s3_region;           // --s3-region, CHATPIPE_S3_REGION (default us-east-1)
  std::string s3_access_key;       // CHATPIPE_S3_ACCESS_KEY_ID (or AWS_ACCESS_KEY_ID)
  std::string s3_secret_key;       // CHATPIPE_S3_SECRET_ACCESS_KEY (or AWS_SECRET_ACCESS_KEY)
  std::string s3_config_file;      // --s3-config, CHATPIPE_S3_CONFIG: KEY=VALUE lines of the above
};

void AddObjectStoreOptions(CLI::App* app, ObjectStoreConfig* config);
// Opens the configured store: creates the directory, or checks the bucket (creating it if missing).
Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const ObjectStoreConfig& config);

// The lower-case hex SHA-256 of `bytes`: an object's key.
std::string ObjectKey(std::string_view bytes);
// Whether `key` has the shape of one (64 lower-case hex digits): checked before any store sees it.
bool IsObjectKey(std::string_view key);
// Where clients read an object used in `room` (ingress checks the reader may read the room):
// /api/rooms/{room}/objects/{key}.
std::string ObjectPath(int64_t room, std::string_view key);

}  // namespace chatpipe
