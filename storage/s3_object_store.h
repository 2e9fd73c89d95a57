// S3ObjectStore: objects in a bucket of any S3-compatible service (AWS S3, SeaweedFS, MinIO), spoken to
// with libcurl and signed by libcurl's own AWS SigV4 (CURLOPT_AWS_SIGV4).
//
// An object lives at ENDPOINT/BUCKET/KEY: path-style addressing, which every S3-compatible server
// understands (SeaweedFS and MinIO only that by default) and AWS S3 still serves. The store owns a few
// idle curl handles (their connections are kept alive between calls) and nothing else: thread-safe,
// blocking, every call bounded by a connect and a total timeout.
//
// Settings come from flags, then the environment, then the --s3-config file (ResolveS3Config), then
// the defaults (bucket "chatpipe", region "us-east-1").
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "storage/object_store.h"

namespace chatpipe {

inline constexpr char kDefaultS3Bucket[] = "chatpipe";
inline constexpr char kDefaultS3Region[] = "us-east-1";

// Reads the S3 settings (with the config file's, when one is named), checks the bucket and creates it
// when it is missing.
Result<std::unique_ptr<ObjectStore>> OpenS3ObjectStore(const ObjectStoreConfig& config);

// `config` completed: the S3 fields it leaves empty taken from its config file (when it names one),
// then the defaults; refused (bad_config) without an endpoint, a bucket or both credentials.
Result<ObjectStoreConfig> ResolveS3Config(const ObjectStoreConfig& config);

// Fills the S3 fields of `config` that are still empty from `text`: KEY=VALUE lines with the names of
// the environment (CHATPIPE_S3_ENDPOINT, _BUCKET, _REGION, _ACCESS_KEY_ID, _SECRET_ACCESS_KEY). Blank
// lines and lines starting with # are skipped; an `export ` prefix and one pair of quotes around the
// value are allowed, so a file a shell sources works too. An unknown key or a line without `=` is
// refused (bad_config, naming `source` and the line): a typo must not pass silently.
Status ParseS3Config(std::string_view text, std::string_view source, ObjectStoreConfig* config);

}  // namespace chatpipe
