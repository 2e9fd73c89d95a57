// RecordWriter: the file (or stdout) `chatpipe replay` writes, in whole records only.
//
// Records (a JSON line, a CSV row) are appended whole to a buffer, which goes out in large writes,
// each ending at a record's end; so however the replay stops (Ctrl-C, an error), what reached the file
// is a sequence of complete records (a full disk aside). A file is written as PATH.partial and renamed
// to PATH by Finish(): a replay that fails leaves PATH as it was, and what it read in PATH.partial.
// Owns the file descriptor of a file it opened.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace chatpipe {

class RecordWriter {
 public:
  // `path` empty or "-": stdout. A file: PATH.partial is created or truncated.
  static Result<std::unique_ptr<RecordWriter>> Open(const std::string& path);
  ~RecordWriter();  // closes a file it opened, left as PATH.partial (what is buffered is lost: call Finish)

  // Append whole records here, then call Written().
  std::string& buffer() { return buffer_; }
  // Writes the buffer out once it holds a large enough chunk.
  Status Written() { return buffer_.size() >= kChunk ? Flush() : Status::Ok(); }
  // After a failed write every later one fails the same way: nothing is written twice.
  Status Flush();
  Status Finish();  // Flush, then close a file it opened and rename it to PATH

  int64_t bytes() const { return bytes_; }
  const std::string& partial_path() const { return partial_; }  // "" for stdout

 private:
  static constexpr size_t kChunk = 1 << 20;
  RecordWriter(int fd, std::string path, std::string partial)
      : fd_(fd), path_(std::move(path)), partial_(std::move(partial)) {}
  int fd_;
  std::string path_;
  std::string partial_;  // the file written, renamed to path_ at Finish; "" for stdout
  std::string buffer_;
  int64_t bytes_ = 0;
  Status failed_;
};

}  // namespace chatpipe
