#include "storage/s3_object_store.h"

namespace chatpipe {

// Replaced by the libcurl SigV4 store (issue 17, in progress).
Result<std::unique_ptr<ObjectStore>> OpenS3ObjectStore(const ObjectStoreConfig&) {
  return Status::Unimplemented("s3_unavailable", "the S3 store is not built yet");
}

}  // namespace chatpipe
