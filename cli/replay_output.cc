#include "cli/replay_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace chatpipe {

Result<std::unique_ptr<RecordWriter>> RecordWriter::Open(const std::string& path) {
  if (path.empty() || path == "-") return std::unique_ptr<RecordWriter>(new RecordWriter(STDOUT_FILENO, false, "stdout"));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::InvalidArgument("bad_output", path + ": " + std::strerror(errno));
  return std::unique_ptr<RecordWriter>(new RecordWriter(fd, true, path));
}

RecordWriter::~RecordWriter() {
  if (owned_ && fd_ >= 0) ::close(fd_);
}

Status RecordWriter::Flush() {
  size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;  // Ctrl-C: the record is finished all the same
    if (n < 0) return Status::Unavailable("write_failed", path_ + ": " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  bytes_ += static_cast<int64_t>(done);
  buffer_.clear();
  return Status::Ok();
}

Status RecordWriter::Close() {
  Status s = Flush();
  if (owned_ && fd_ >= 0) {
    if (::close(fd_) != 0 && s.ok()) s = Status::Unavailable("write_failed", path_ + ": " + std::strerror(errno));
    fd_ = -1;
  }
  return s;
}

}  // namespace chatpipe
