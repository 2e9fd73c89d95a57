#include "ingress/connection_counter.h"

namespace chatpipe {

bool ConnectionCounter::Admit(const std::string& address) {
  std::lock_guard lock(mu_);
  if (max_total_ > 0 && total_ >= max_total_) return false;
  if (!address.empty() && !TakeAddress(address)) return false;
  ++total_;
  return true;
}

void ConnectionCounter::Release(const std::string& address) {
  std::lock_guard lock(mu_);
  --total_;
  if (!address.empty()) DropAddress(address);
}

bool ConnectionCounter::AdmitClient(const std::string& address) {
  std::lock_guard lock(mu_);
  return TakeAddress(address);
}

void ConnectionCounter::ReleaseClient(const std::string& address) {
  std::lock_guard lock(mu_);
  DropAddress(address);
}

int ConnectionCounter::total() const {
  std::lock_guard lock(mu_);
  return total_;
}

bool ConnectionCounter::TakeAddress(const std::string& address) {
  int& n = by_address_[address];
  if (max_per_address_ > 0 && n >= max_per_address_) return false;  // n > 0: the entry was there
  ++n;
  return true;
}

void ConnectionCounter::DropAddress(const std::string& address) {
  auto it = by_address_.find(address);
  if (it != by_address_.end() && --it->second == 0) by_address_.erase(it);
}

}  // namespace chatpipe
