// UploadBudget: how many bytes of upload bodies one ingress process holds at once, over all loops.
//
// An upload may be megabytes (--max-upload-bytes) where every other request is at most 64 KiB, so a
// client that opens many connections and starts an upload on each could otherwise make the process
// hold gigabytes. A connection claims the upload's Content-Length as soon as its headers are in (and
// its bearer token checks out); when the claim would pass the budget the request is answered 503 at
// once, before its body is read. One client address may hold at most a quarter of the budget (or one
// upload of the largest size, if that is more), so a single client starting uploads it never
// finishes cannot keep everyone else's out.
// The claim travels with the body (to the media pool) and is given back when it is destroyed.
// Thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace chatpipe {

class UploadBudget;

class UploadClaim {
 public:
  UploadClaim(UploadBudget* budget, std::string client, size_t bytes)
      : budget_(budget), client_(std::move(client)), bytes_(bytes) {}
  ~UploadClaim();
  UploadClaim(const UploadClaim&) = delete;
  UploadClaim& operator=(const UploadClaim&) = delete;
  size_t bytes() const { return bytes_; }

 private:
  UploadBudget* budget_;
  std::string client_;
  size_t bytes_;
};

class UploadBudget {
 public:
  // `max_upload`: the largest upload's size (--max-upload-bytes).
  UploadBudget(size_t max_bytes, size_t max_upload)
      : max_bytes_(max_bytes), max_per_client_(std::min(max_bytes, std::max(max_bytes / 4, max_upload))) {}
  // A claim on `bytes` for the client address `client` (an AddressKey), or null when the claims held
  // would pass the budget, or the client's share of it.
  std::unique_ptr<UploadClaim> Claim(const std::string& client, size_t bytes);
  size_t in_use() const;
  size_t max_per_client() const { return max_per_client_; }

 private:
  friend class UploadClaim;
  void Release(const std::string& client, size_t bytes);

  const size_t max_bytes_;
  const size_t max_per_client_;
  mutable std::mutex mu_;  // uploads are rare beside other requests: a lock per claim is nothing
  size_t in_use_ = 0;
  std::unordered_map<std::string, size_t> by_client_;  // only clients holding a claim
};

}  // namespace chatpipe
