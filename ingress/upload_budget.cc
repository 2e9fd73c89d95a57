#include "ingress/upload_budget.h"

namespace chatpipe {

UploadClaim::~UploadClaim() { budget_->Release(client_, bytes_); }

std::unique_ptr<UploadClaim> UploadBudget::Claim(const std::string& client, size_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t& held = by_client_[client];
  if (bytes > max_bytes_ - in_use_ || bytes > max_per_client() - held) {
    if (!held) by_client_.erase(client);
    return nullptr;
  }
  held += bytes;
  in_use_ += bytes;
  return std::make_unique<UploadClaim>(this, client, bytes);
}

void UploadBudget::Release(const std::string& client, size_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  in_use_ -= bytes;
  auto it = by_client_.find(client);
  if (it != by_client_.end() && (it->second -= bytes) == 0) by_client_.erase(it);
}

size_t UploadBudget::in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_use_;
}

}  // namespace chatpipe
