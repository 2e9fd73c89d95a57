#include "ingress/upload_budget.h"

namespace chatpipe {

UploadClaim::~UploadClaim() { budget_->in_use_.fetch_sub(bytes_, std::memory_order_relaxed); }

std::unique_ptr<UploadClaim> UploadBudget::Claim(size_t bytes) {
  size_t used = in_use_.load(std::memory_order_relaxed);
  do {
    if (bytes > max_bytes_ || used > max_bytes_ - bytes) return nullptr;
  } while (!in_use_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
  return std::make_unique<UploadClaim>(this, bytes);
}

}  // namespace chatpipe
