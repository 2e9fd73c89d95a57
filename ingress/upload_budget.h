// UploadBudget: how many bytes of upload bodies one ingress process holds at once, over all loops.
//
// An upload may be megabytes (--max-upload-bytes) where every other request is at most 64 KiB, so a
// client that opens many connections and starts an upload on each could otherwise make the process
// hold gigabytes. A connection claims the upload's Content-Length as soon as its headers are in;
// when the claim would pass the budget the request is answered 503 at once, before its body is read.
// The claim travels with the body (to the media pool) and is given back when it is destroyed.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

namespace chatpipe {

class UploadBudget;

class UploadClaim {
 public:
  UploadClaim(UploadBudget* budget, size_t bytes) : budget_(budget), bytes_(bytes) {}
  ~UploadClaim();
  UploadClaim(const UploadClaim&) = delete;
  UploadClaim& operator=(const UploadClaim&) = delete;
  size_t bytes() const { return bytes_; }

 private:
  UploadBudget* budget_;
  size_t bytes_;
};

class UploadBudget {
 public:
  explicit UploadBudget(size_t max_bytes) : max_bytes_(max_bytes) {}
  // A claim on `bytes`, or null when the claims held would pass the budget.
  std::unique_ptr<UploadClaim> Claim(size_t bytes);
  size_t in_use() const { return in_use_.load(std::memory_order_relaxed); }

 private:
  friend class UploadClaim;
  const size_t max_bytes_;
  std::atomic<size_t> in_use_{0};
};

}  // namespace chatpipe
