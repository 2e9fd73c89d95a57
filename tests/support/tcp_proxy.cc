#include "tests/support/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <vector>

namespace chatpipe::test {
namespace {

struct Pipe {
  int client = -1;
  int server = -1;
};

int ConnectTo(const std::string& host, uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Copies what is readable on `from` to `to` (blocking write: loopback peers drain fast). False at
// end of stream or on error.
bool Forward(int from, int to) {
  char buf[65536];
  ssize_t n = ::read(from, buf, sizeof buf);
  if (n <= 0) return false;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = ::write(to, buf + off, n - off);
    if (w <= 0) return false;
    off += w;
  }
  return true;
}

void ClosePipe(Pipe& p) {
  ::close(p.client);
  ::close(p.server);
  p.client = p.server = -1;
}

}  // namespace

TcpProxy::TcpProxy(std::string target_host, uint16_t target_port)
    : target_host_(std::move(target_host)), target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("TcpProxy: cannot listen on loopback");
  port_ = ntohs(a.sin_port);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
  thread_ = std::thread([this] { Run(); });
}

TcpProxy::~TcpProxy() {
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_fd_);
}

void TcpProxy::Run() {
  std::vector<Pipe> pipes;
  for (;;) {
    if (cut_) {
      for (Pipe& p : pipes) ClosePipe(p);
      pipes.clear();
    }
    std::vector<pollfd> fds = {{wake_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (const Pipe& p : pipes) {
      fds.push_back({p.client, POLLIN, 0});
      fds.push_back({p.server, POLLIN, 0});
    }
    // A short timeout so that a Cut() takes effect on idle connections too.
    if (::poll(fds.data(), fds.size(), 20) < 0) continue;
    if (fds[0].revents) return;
    for (size_t i = 0; i < pipes.size(); ++i) {
      const pollfd& c = fds[2 + 2 * i];
      const pollfd& s = fds[3 + 2 * i];
      bool ok = true;
      if (c.revents) ok = Forward(pipes[i].client, pipes[i].server);
      if (ok && s.revents) ok = Forward(pipes[i].server, pipes[i].client);
      if (!ok) ClosePipe(pipes[i]);
    }
    std::erase_if(pipes, [](const Pipe& p) { return p.client < 0; });
    if (fds[1].revents & POLLIN) {
      int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        int server = cut_ ? -1 : ConnectTo(target_host_, target_port_);
        if (server < 0) ::close(client);
        else pipes.push_back({client, server});
      }
    }
  }
}

}  // namespace chatpipe::test
