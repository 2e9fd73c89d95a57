// RecordWriter: the file (or stdout) `chatpipe replay` writes, in whole records only.
//
// Records (a JSON line, a CSV row) are appended whole to a buffer, which goes out in large writes,
// each ending at a record's end; so however the replay stops (Ctrl-C, an error), what reached the file
// is a sequence of complete records. Owns the file descriptor of a file it opened.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace chatpipe {

class RecordWriter {
 public:
  // `path` empty or "-": stdout. A file is created or truncated.
  static Result<std::unique_ptr<RecordWriter>> Open(const std::string& path);
  ~RecordWriter();  // closes a file it opened (what is buffered is lost: call Close)

  // Append whole records here, then call Written().
  std::string& buffer() { return buffer_; }
  // Writes the buffer out once it holds a large enough chunk.
  Status Written() { return buffer_.size() >= kChunk ? Flush() : Status::Ok(); }
  Status Flush();
  Status Close();  // Flush, then close a file it opened

  int64_t bytes() const { return bytes_; }

 private:
  static constexpr size_t kChunk = 1 << 20;
  RecordWriter(int fd, bool owned, std::string path) : fd_(fd), owned_(owned), path_(std::move(path)) {}
  int fd_;
  bool owned_;
  std::string path_;
  std::string buffer_;
  int64_t bytes_ = 0;
};

}  // namespace chatpipe
