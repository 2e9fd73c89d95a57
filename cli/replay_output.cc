#include "cli/replay_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace chatpipe {

Result<std::unique_ptr<RecordWriter>> RecordWriter::Open(const std::string& path) {
  if (path.empty() || path == "-") return std::unique_ptr<RecordWriter>(new RecordWriter(STDOUT_FILENO, "stdout", ""));
  const std::string partial = path + ".partial";
  int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::InvalidArgument("bad_output", partial + ": " + std::strerror(errno));
  return std::unique_ptr<RecordWriter>(new RecordWriter(fd, path, partial));
}

RecordWriter::~RecordWriter() {
  if (!partial_.empty() && fd_ >= 0) ::close(fd_);
}

Status RecordWriter::Flush() {
  if (!failed_.ok()) return failed_;
  size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;  // Ctrl-C: the record is finished all the same
    if (n < 0) {
      failed_ = Status::Unavailable("write_failed", (partial_.empty() ? path_ : partial_) + ": " + std::strerror(errno));
      break;
    }
    done += static_cast<size_t>(n);
  }
  bytes_ += static_cast<int64_t>(done);
  buffer_.erase(0, done);
  return failed_;
}

Status RecordWriter::Finish() {
  Status s = Flush();
  if (partial_.empty() || fd_ < 0) return s;
  if (::close(fd_) != 0 && s.ok()) s = Status::Unavailable("write_failed", partial_ + ": " + std::strerror(errno));
  fd_ = -1;
  if (s.ok() && ::rename(partial_.c_str(), path_.c_str()) != 0)
    s = Status::Unavailable("write_failed", "rename " + partial_ + " to " + path_ + ": " + std::strerror(errno));
  return s;
}

}  // namespace chatpipe
