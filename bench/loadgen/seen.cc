#include "bench/loadgen/seen.h"

namespace chatpipe::bench {

bool SeenSeqs::Early(uint32_t seq) const {
  const uint32_t i = seq - base_;
  return i / 64 < ahead_.size() && (ahead_[i / 64] >> (i % 64) & 1);
}

bool SeenSeqs::Add(uint32_t seq) {
  if (seq < next_) return false;
  if (seq == next_) {
    ++next_;
    while (early_ > 0 && Early(next_)) {
      --early_;
      ++next_;
    }
    if (early_ == 0) ahead_.clear();
    else Trim();
    return true;
  }
  if (ahead_.empty()) base_ = next_ / 64 * 64;
  if (Early(seq)) return false;
  const uint32_t i = seq - base_;
  if (ahead_.size() <= i / 64) ahead_.resize(i / 64 + 1, 0);
  ahead_[i / 64] |= uint64_t{1} << (i % 64);
  ++early_;
  return true;
}

// Drops the words next_ has passed.
void SeenSeqs::Trim() {
  const uint32_t passed = (next_ - base_) / 64;
  if (passed == 0) return;
  ahead_.erase(ahead_.begin(), ahead_.begin() + passed);
  base_ += passed * 64;
}

}  // namespace chatpipe::bench
