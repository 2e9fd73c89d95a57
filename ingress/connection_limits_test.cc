#include "ingress/connection_limits.h"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace chatpipe {
namespace {

// One end of a loopback TCP connection, as accept() gives it to ingress.
class AcceptedSocket {
 public:
  AcceptedSocket() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(listener_, 1) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return;
    client_ = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(client_, reinterpret_cast<sockaddr*>(&addr), len) == 0) fd_ = accept(listener_, nullptr, nullptr);
  }
  ~AcceptedSocket() {
    for (int fd : {fd_, client_, listener_})
      if (fd >= 0) close(fd);
  }
  int fd() const { return fd_; }

  int Option(int level, int name) const {
    int value = -1;
    socklen_t len = sizeof value;
    EXPECT_EQ(getsockopt(fd_, level, name, &value, &len), 0);
    return value;
  }

 private:
  int listener_ = -1, client_ = -1, fd_ = -1;
};

TEST(ConnectionLimitsTest, KeepaliveOptionsReachTheSocket) {
  CLI::App app;
  ConnectionLimits limits;
  AddConnectionLimitOptions(&app, &limits);
  app.parse("--tcp-keepalive-idle-s 7 --tcp-keepalive-interval-s 4 --tcp-keepalive-count 3", false);
  AcceptedSocket s;
  ASSERT_GE(s.fd(), 0);
  SetClientSocketOptions(s.fd(), limits);
  EXPECT_EQ(s.Option(SOL_SOCKET, SO_KEEPALIVE), 1);
  EXPECT_EQ(s.Option(IPPROTO_TCP, TCP_KEEPIDLE), 7);
  EXPECT_EQ(s.Option(IPPROTO_TCP, TCP_KEEPINTVL), 4);
  EXPECT_EQ(s.Option(IPPROTO_TCP, TCP_KEEPCNT), 3);
  EXPECT_EQ(s.Option(IPPROTO_TCP, TCP_NODELAY), 1);
}

TEST(ConnectionLimitsTest, KeepaliveIsOnByDefaultAndIdleZeroTurnsItOff) {
  AcceptedSocket on, off;
  ASSERT_GE(on.fd(), 0);
  ASSERT_GE(off.fd(), 0);
  ConnectionLimits limits;
  SetClientSocketOptions(on.fd(), limits);
  EXPECT_EQ(on.Option(SOL_SOCKET, SO_KEEPALIVE), 1);
  EXPECT_EQ(on.Option(IPPROTO_TCP, TCP_KEEPIDLE), 60);
  limits.tcp_keepalive_idle_s = 0;
  SetClientSocketOptions(off.fd(), limits);
  EXPECT_EQ(off.Option(SOL_SOCKET, SO_KEEPALIVE), 0);
  EXPECT_EQ(off.Option(IPPROTO_TCP, TCP_NODELAY), 1);
}

TEST(ConnectionLimitsTest, KeepaliveSettingsOutOfRangeAreRefused) {
  for (const char* bad : {"--tcp-keepalive-idle-s=-1", "--tcp-keepalive-interval-s=0", "--tcp-keepalive-count=200"}) {
    CLI::App app;
    ConnectionLimits limits;
    AddConnectionLimitOptions(&app, &limits);
    EXPECT_THROW(app.parse(bad, false), CLI::ValidationError) << bad;
  }
}

}  // namespace
}  // namespace chatpipe
