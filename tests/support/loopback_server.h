// LoopbackServer: a TCP server on 127.0.0.1 with a kernel-chosen port, for tests that need a peer
// (a fake ingress for the clients here, a fake dependency elsewhere).
//
// It serves one connection at a time on its own thread: `serve` gets the blocking socket and owns it
// until it returns; the server closes it then. The destructor stops accepting, shuts the current
// connection down (so a serve blocked in recv sees end of stream and returns) and joins the thread.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace chatpipe::test {

class LoopbackServer {
 public:
  explicit LoopbackServer(std::function<void(int fd)> serve);
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  uint16_t port() const { return port_; }

 private:
  void Run();

  std::function<void(int fd)> serve_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::mutex mu_;
  bool stopping_ = false;  // guarded by mu_
  int conn_fd_ = -1;       // guarded by mu_; the connection being served
  std::thread thread_;
};

// Blocking helpers for serve functions. RecvSome appends what arrives next to *buffer and returns
// false at end of stream or on error; SendAll returns false if the peer went away.
bool RecvSome(int fd, std::string* buffer);
bool SendAll(int fd, std::string_view data);

}  // namespace chatpipe::test
