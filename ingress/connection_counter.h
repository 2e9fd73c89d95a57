// ConnectionCounter: the client connections of one ingress process, in all and per client address,
// so that each loop can refuse a connection over --max-connections or --max-connections-per-address.
//
// A client's address is its AddressKey (ingress/client_address.h). A connection from a trusted proxy
// counts in the total only: it carries many clients, so the proxy has no per-address cap here. Its
// client is known once a request arrives, and a WebSocket, the connection that lasts, counts against
// its client's cap from its upgrade (AdmitClient); plain HTTP through the proxy is held by the proxy's
// own limits and by the per-address rate limits.
//
// Shared by every loop (owned by Services): a mutex guards it, taken twice per connection (at accept
// and at close) and twice more for a proxied WebSocket, never on the path of a message. Admit() and
// Release(), AdmitClient() and ReleaseClient() come in pairs.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

namespace chatpipe {

class ConnectionCounter {
 public:
  // 0: no limit.
  ConnectionCounter(int max_total, int max_per_address) : max_total_(max_total), max_per_address_(max_per_address) {}

  // Counts a new connection from `address` and returns true, or returns false (and counts nothing)
  // when either limit is reached. An empty `address` (a trusted proxy's) counts in the total only.
  bool Admit(const std::string& address);
  void Release(const std::string& address);
  // Counts a proxied connection's client against the per-address limit (its connection is in the
  // total already): false, counting nothing, when the limit is reached.
  bool AdmitClient(const std::string& address);
  void ReleaseClient(const std::string& address);
  int total() const;

 private:
  bool TakeAddress(const std::string& address);  // under mu_
  void DropAddress(const std::string& address);  // under mu_

  const int max_total_;
  const int max_per_address_;
  mutable std::mutex mu_;
  int total_ = 0;                                    // under mu_
  std::unordered_map<std::string, int> by_address_;  // under mu_; only addresses with connections
};

}  // namespace chatpipe
