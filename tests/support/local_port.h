// LocalPort: the port a test's client socket was given, to find its connection in /proc/net/tcp.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace chatpipe::test {

// 0 if the socket has no address.
inline int LocalPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  return getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0 ? ntohs(addr.sin_port) : 0;
}

}  // namespace chatpipe::test
