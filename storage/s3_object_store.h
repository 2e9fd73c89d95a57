// S3ObjectStore: objects in a bucket of any S3-compatible service, signed with libcurl's AWS SigV4.
#pragma once

#include <memory>

#include "storage/object_store.h"

namespace chatpipe {

// Reads the S3 settings (with the config file's, when one is named), checks the bucket and creates it
// when it is missing.
Result<std::unique_ptr<ObjectStore>> OpenS3ObjectStore(const ObjectStoreConfig& config);

}  // namespace chatpipe
