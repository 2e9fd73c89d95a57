#include "storage/object_store.h"

#include <sodium.h>

#include "storage/local_object_store.h"
#include "storage/s3_object_store.h"

namespace chatpipe {

void AddObjectStoreOptions(CLI::App* app, ObjectStoreConfig* c) {
  app->add_option("--objects-dir", c->dir, "directory of stored objects (uploads, speech) when no S3 endpoint is set")
      ->envname("CHATPIPE_OBJECTS_DIR")->capture_default_str();
  app->add_option("--s3-endpoint", c->s3_endpoint, "S3-compatible endpoint (http://host:port); set: objects go there")
      ->envname("CHATPIPE_S3_ENDPOINT");
  app->add_option("--s3-bucket", c->s3_bucket, std::string("S3 bucket, created when missing (default ") +
                  kDefaultS3Bucket + ")")->envname("CHATPIPE_S3_BUCKET");
  app->add_option("--s3-region", c->s3_region, std::string("S3 region, for SigV4 (default ") + kDefaultS3Region + ")")
      ->envname("CHATPIPE_S3_REGION");
  app->add_option("--s3-config", c->s3_config_file,
                  "file of KEY=VALUE lines (CHATPIPE_S3_ENDPOINT, _BUCKET, _REGION, _ACCESS_KEY_ID, "
                  "_SECRET_ACCESS_KEY) for what flags and environment leave unset; the credentials come only "
                  "from the environment (CHATPIPE_S3_ACCESS_KEY_ID and CHATPIPE_S3_SECRET_ACCESS_KEY, else "
                  "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) or this file")
      ->envname("CHATPIPE_S3_CONFIG");
  // Credentials only from the environment or the file: a flag would show them in `ps`.
  for (auto [name, field] : {std::pair{"CHATPIPE_S3_ACCESS_KEY_ID", &c->s3_access_key},
                             std::pair{"CHATPIPE_S3_SECRET_ACCESS_KEY", &c->s3_secret_key},
                             std::pair{"AWS_ACCESS_KEY_ID", &c->s3_access_key},
                             std::pair{"AWS_SECRET_ACCESS_KEY", &c->s3_secret_key}}) {
    const char* v = std::getenv(name);
    if (v && *v && field->empty()) *field = v;
  }
}

Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const ObjectStoreConfig& config) {
  if (!config.s3_endpoint.empty() || !config.s3_config_file.empty()) return OpenS3ObjectStore(config);
  auto store = std::make_unique<LocalObjectStore>(config.dir);
  if (Status s = store->Open(); !s.ok()) return s;
  return std::unique_ptr<ObjectStore>(std::move(store));
}

std::string ObjectKey(std::string_view bytes) {
  unsigned char hash[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(hash, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  char hex[sizeof hash * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  return std::string(hex, sizeof hash * 2);
}

bool IsObjectKey(std::string_view key) {
  if (key.size() != crypto_hash_sha256_BYTES * 2) return false;
  for (char c : key)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string ObjectPath(int64_t room, std::string_view key) {
  return "/api/rooms/" + std::to_string(room) + "/objects/" + std::string(key);
}

}  // namespace chatpipe
