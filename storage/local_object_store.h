// LocalObjectStore: objects as files under one directory, for a single machine (the default store).
//
// An object lives at DIR/ab/cd/<key> (ab, cd: its key's first hex digits, so that no directory grows
// past 65,536 entries). A Put writes a temporary file, fsyncs it, renames it into place and fsyncs the
// directory, so a crash leaves either the whole object or none, and Put returns only once it is
// durable. The store keeps no state besides the path: thread-safe.
#pragma once

#include <string>

#include "storage/object_store.h"

namespace chatpipe {

class LocalObjectStore : public ObjectStore {
 public:
  explicit LocalObjectStore(std::string dir) : dir_(std::move(dir)) {}
  // Creates the directory when missing; refuses one it cannot write to.
  Status Open();
  Status Put(std::string_view key, std::string_view bytes, std::string_view content_type) override;
  Result<std::string> Get(std::string_view key, std::optional<ByteRange> range) override;
  std::string Describe() const override { return "dir " + dir_; }

 private:
  std::string PathOf(std::string_view key) const;
  std::string dir_;
};

}  // namespace chatpipe
