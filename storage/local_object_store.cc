#include "storage/local_object_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace chatpipe {
namespace {

Status Errno(std::string_view what, const std::string& path) {
  return Status::Unavailable("object_store_error", std::string(what) + " " + path + ": " + std::strerror(errno));
}

Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return Status::Ok();
  return Errno("mkdir", path);
}

Status SyncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Errno("fsync", path);
}

Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("write", path);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return ::fsync(fd) == 0 ? Status::Ok() : Errno("fsync", path);
}

// A name no other writer of this process or another uses at the same time.
std::string TempName(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

}  // namespace

Status LocalObjectStore::Open() {
  if (dir_.empty()) return Status::InvalidArgument("bad_config", "the objects directory is empty");
  if (Status s = MakeDir(dir_); !s.ok()) return s;
  if (::access(dir_.c_str(), W_OK) != 0) return Errno("cannot write to", dir_);
  return Status::Ok();
}

std::string LocalObjectStore::PathOf(std::string_view key) const {
  return dir_ + "/" + std::string(key.substr(0, 2)) + "/" + std::string(key.substr(2, 2)) + "/" + std::string(key);
}

Status LocalObjectStore::Put(std::string_view key, std::string_view bytes, std::string_view /*content_type*/) {
  if (!IsObjectKey(key)) return Status::InvalidArgument("bad_key", "not an object key");
  std::string path = PathOf(key);
  if (::access(path.c_str(), F_OK) == 0) return Status::Ok();  // same key, same bytes
  std::string outer = dir_ + "/" + std::string(key.substr(0, 2));
  std::string inner = outer + "/" + std::string(key.substr(2, 2));
  for (const std::string* d : {&outer, &inner})
    if (Status s = MakeDir(*d); !s.ok()) return s;
  std::string temp = TempName(path);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create", temp);
  Status written = WriteAll(fd, bytes, temp);
  ::close(fd);
  if (written.ok() && ::rename(temp.c_str(), path.c_str()) != 0) written = Errno("rename", temp);
  if (!written.ok()) {
    ::unlink(temp.c_str());
    return written;
  }
  return SyncPath(inner, O_RDONLY | O_DIRECTORY);
}

Result<std::string> LocalObjectStore::Get(std::string_view key, std::optional<ByteRange> range) {
  if (!IsObjectKey(key)) return Status::InvalidArgument("bad_key", "not an object key");
  std::string path = PathOf(key);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return Status::NotFound("object_not_found", "no object " + std::string(key));
  if (fd < 0) return Errno("open", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status s = Errno("stat", path);
    ::close(fd);
    return s;
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  uint64_t first = range ? range->first : 0;
  uint64_t last = range ? std::min(range->last, size ? size - 1 : 0) : (size ? size - 1 : 0);
  std::string out;
  if (size > 0 && first <= last) out.resize(last - first + 1);
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(first + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = n < 0 ? Errno("read", path) : Status::Internal("object_store_error", "short read " + path);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return out;
}

}  // namespace chatpipe
