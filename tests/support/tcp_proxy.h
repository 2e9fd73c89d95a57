// TcpProxy: a loopback TCP forwarder that a test can cut and restore, to take a real dependency
// (PostgreSQL, Redis) away from one process for a while without stopping it for everyone else.
//
// It listens on 127.0.0.1 at a kernel-chosen port and forwards every connection to `target`. While
// cut, it closes every open connection and closes new ones at once, which a client sees as the server
// going away. One thread of its own serves every connection; the destructor stops and joins it.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace chatpipe::test {

class TcpProxy {
 public:
  TcpProxy(std::string target_host, uint16_t target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  uint16_t port() const { return port_; }
  void Cut() { cut_ = true; }
  void Restore() { cut_ = false; }

 private:
  void Run();

  std::string target_host_;
  uint16_t target_port_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: tells Run to stop
  uint16_t port_ = 0;
  std::atomic<bool> cut_{false};
  std::thread thread_;
};

}  // namespace chatpipe::test
