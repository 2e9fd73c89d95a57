// ConnectionCounter: the client connections of one ingress process, in all and per IPv4 address, so
// that each loop can refuse a connection over --max-connections or --max-connections-per-address.
//
// Shared by every loop (owned by Services): a mutex guards it, taken twice per connection (at accept
// and at close), never on the path of a message. Admit() and Release() come in pairs.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace chatpipe {

class ConnectionCounter {
 public:
  // 0: no limit.
  ConnectionCounter(int max_total, int max_per_address) : max_total_(max_total), max_per_address_(max_per_address) {}

  // Counts a new connection from `address` (network byte order) and returns true, or returns false
  // (and counts nothing) when either limit is reached.
  bool Admit(uint32_t address);
  void Release(uint32_t address);
  int total() const;

 private:
  const int max_total_;
  const int max_per_address_;
  mutable std::mutex mu_;
  int total_ = 0;                                 // under mu_
  std::unordered_map<uint32_t, int> by_address_;  // under mu_; only addresses with connections
};

}  // namespace chatpipe
