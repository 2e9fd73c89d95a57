#include "ingress/connection_counter.h"

namespace chatpipe {

bool ConnectionCounter::Admit(uint32_t address) {
  std::lock_guard lock(mu_);
  if (max_total_ > 0 && total_ >= max_total_) return false;
  int& n = by_address_[address];
  if (max_per_address_ > 0 && n >= max_per_address_) return false;  // n > 0: the entry was there
  ++n;
  ++total_;
  return true;
}

void ConnectionCounter::Release(uint32_t address) {
  std::lock_guard lock(mu_);
  auto it = by_address_.find(address);
  if (it == by_address_.end()) return;
  --total_;
  if (--it->second == 0) by_address_.erase(it);
}

int ConnectionCounter::total() const {
  std::lock_guard lock(mu_);
  return total_;
}

}  // namespace chatpipe
