// RawConn: a plain TCP connection to ingress, for what a WebSocket or HTTP client library would not
// do (send half a request, never read, count bytes). Blocking connect on loopback; reads with timeouts.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "tests/support/local_port.h"
#include "tests/support/wait.h"

namespace chatpipe::test {

class RawConn {
 public:
  // The cheapest request: its answer is constant, whatever the engines' state.
  static constexpr std::string_view kLivez = "GET /livez HTTP/1.1\r\nHost: t\r\n\r\n";
  // `source`: the loopback address to connect from (127.0.0.2: a peer other than 127.0.0.1).
  explicit RawConn(int port, int rcvbuf = 0, const char* source = nullptr) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (source) {
      sockaddr_in from{};
      from.sin_family = AF_INET;
      inet_pton(AF_INET, source, &from.sin_addr);
      bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from);
    }
    if (rcvbuf > 0) {
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
      setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &rcvbuf, sizeof rcvbuf);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConn() { close(fd_); }
  bool connected() const { return connected_; }

  bool Send(const std::string& bytes) { return send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == ssize_t(bytes.size()); }
  // Sends what the socket takes now; the bytes taken.
  size_t SendSome(std::string_view bytes) {
    ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    return n > 0 ? static_cast<size_t>(n) : 0;
  }

  // Reads what arrives within `timeout` into in(); false once the peer closed (EOF or reset).
  bool ReadFor(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return true;
    char buf[65536];
    ssize_t n = recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) in_.append(buf, static_cast<size_t>(n));
    return n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR));
  }
  // Reads until `done` holds or the peer closes, within `timeout`: whether it closed.
  bool ReadUntil(const std::function<bool(const std::string&)>& done, std::chrono::milliseconds timeout) {
    bool open = true;
    WaitFor([&](std::chrono::milliseconds left) {
      open = ReadFor(std::min(left, std::chrono::milliseconds(100)));
      return !open || done(in_);
    }, timeout);
    return !open;
  }
  // A keep-alive GET /livez answered 200 on this connection (false: refused or closed).
  bool Healthy() {
    if (!connected_ || !Send(std::string(kLivez))) return false;
    in_.clear();
    bool closed = ReadUntil([](const std::string& in) { return in.find("\r\n\r\n") != std::string::npos; },
                            std::chrono::seconds(5));
    return !closed && in_.rfind("HTTP/1.1 200", 0) == 0;
  }
  // The server ends the connection without an answer within `timeout` (false: it answered, or hung).
  bool RefusedWithin(std::chrono::milliseconds timeout) {
    if (!connected_) return true;
    Send(std::string(kLivez));  // may fail: the server closed already
    in_.clear();
    bool closed = ReadUntil([](const std::string& in) { return !in.empty(); }, timeout);
    return closed && in_.empty();
  }
  std::string& in() { return in_; }
  int local_port() const { return LocalPort(fd_); }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string in_;
};


}  // namespace chatpipe::test
