// Client addresses behind a trusted proxy, on a real ingress that trusts 127.0.0.1 alone: a request
// from 127.0.0.1 (the "proxy") counts against the client its X-Forwarded-For names, so two clients
// behind it have limits of their own; a peer at 127.0.0.2 is not trusted, and whatever it says in the
// header, it is counted as itself (a client cannot spoof its way around a limit). /metrics on the
// client port answers the client the header names, so the internet is refused it through the proxy.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/raw_conn.h"
#include "tests/support/stack_test_base.h"

namespace chatpipe::test {
namespace {

constexpr const char* kProxy = "127.0.0.1";
constexpr const char* kUntrusted = "127.0.0.2";

std::string ForwardedFor(const std::string& client) {
  return client.empty() ? std::string() : "X-Forwarded-For: " + client + "\r\n";
}

class TrustedProxyTest : public StackTest {
 protected:
  void Start(int connections_per_address) {
    ASSERT_TRUE(stack->StartIngress([&](IngressConfig& c) {
      c.trusted_proxies = "127.0.0.1/32";
      c.limits.guests_per_address = ParseBucketSpec("2/1h").value_or(BucketSpec{});
      c.connections.max_connections_per_address = connections_per_address;
    }).ok());
  }

  // The status of a guest session asked for from `source`, saying it forwards for `client`.
  int Guest(const char* source, const std::string& client) {
    RawConn conn(stack->port(), 0, source);
    EXPECT_TRUE(conn.connected());
    conn.Send("POST /api/sessions/guest HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n" +
              ForwardedFor(client) + "\r\n");
    EXPECT_TRUE(conn.ReadUntil([](const std::string&) { return false; }, std::chrono::seconds(10)))
        << "the answer, then the close";
    return conn.in().rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(conn.in().substr(9, 3)) : 0;
  }

  // A WebSocket upgrade from `source` forwarding for `client`: the connection, its answer in in().
  std::unique_ptr<RawConn> Upgrade(const char* source, const std::string& client) {
    auto conn = std::make_unique<RawConn>(stack->port(), 0, source);
    conn->Send("GET /ws?token=" + token + " HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
               ForwardedFor(client) + "\r\n");
    conn->ReadUntil([](const std::string& in) { return in.find("\r\n\r\n") != std::string::npos; },
                    std::chrono::seconds(10));
    return conn;
  }
  static bool Upgraded(RawConn& conn) { return conn.in().rfind("HTTP/1.1 101", 0) == 0; }

  // The status of GET /metrics asked for from `source`, saying it forwards for `client`.
  int Metrics(const char* source, const std::string& client) {
    RawConn conn(stack->port(), 0, source);
    EXPECT_TRUE(conn.connected());
    conn.Send("GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" + ForwardedFor(client) + "\r\n");
    EXPECT_TRUE(conn.ReadUntil([](const std::string&) { return false; }, std::chrono::seconds(10)));
    return conn.in().rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(conn.in().substr(9, 3)) : 0;
  }

  std::string token;
};

TEST_F(TrustedProxyTest, ClientsBehindTheProxyHaveRateLimitsOfTheirOwn) {
  Start(0);
  EXPECT_EQ(Guest(kProxy, "203.0.113.1"), 200);
  EXPECT_EQ(Guest(kProxy, "203.0.113.1"), 200);
  EXPECT_EQ(Guest(kProxy, "203.0.113.1"), 429) << "two guests an hour per address";
  EXPECT_EQ(Guest(kProxy, "203.0.113.2"), 200) << "another client behind the same proxy";
  EXPECT_EQ(Guest(kProxy, "198.51.100.9, 203.0.113.1"), 429)
      << "what the client wrote left of the address the proxy saw changes nothing";
  EXPECT_EQ(Guest(kProxy, "2001:db8:1:2::1"), 200);
  EXPECT_EQ(Guest(kProxy, "2001:db8:1:2::2"), 200);
  EXPECT_EQ(Guest(kProxy, "2001:db8:1:2::3"), 429) << "an IPv6 client counts by its /64";
  EXPECT_EQ(Guest(kProxy, ""), 200) << "no header: the proxy is the client";
}

TEST_F(TrustedProxyTest, AnUntrustedPeersHeaderIsIgnored) {
  Start(0);
  EXPECT_EQ(Guest(kUntrusted, "203.0.113.10"), 200);
  EXPECT_EQ(Guest(kUntrusted, "203.0.113.11"), 200);
  EXPECT_EQ(Guest(kUntrusted, "203.0.113.12"), 429) << "all three came from 127.0.0.2";
  EXPECT_EQ(Guest(kProxy, "203.0.113.10"), 200) << "the spoofed addresses were never counted";
}

TEST_F(TrustedProxyTest, WebSocketsCountAgainstTheForwardedClientsConnectionCap) {
  Start(2);
  auto guest = stack->Guest();
  ASSERT_TRUE(guest.ok()) << guest.status().ToString();
  token = guest->token;
  // The proxy's own connections have no per-address cap: it carries every client.
  std::vector<std::unique_ptr<RawConn>> plain;
  for (int i = 0; i < 4; ++i) {
    plain.push_back(std::make_unique<RawConn>(stack->port(), 0, kProxy));
    ASSERT_TRUE(plain.back()->Healthy()) << "proxy connection " << i + 1;
  }
  std::vector<std::unique_ptr<RawConn>> a;
  for (int i = 0; i < 2; ++i) {
    a.push_back(Upgrade(kProxy, "203.0.113.1"));
    ASSERT_TRUE(Upgraded(*a.back())) << a.back()->in();
  }
  auto over = Upgrade(kProxy, "203.0.113.1");
  EXPECT_EQ(over->in().rfind("HTTP/1.1 429", 0), 0u) << over->in();
  EXPECT_NE(over->in().find("too_many_connections"), std::string::npos) << over->in();
  auto b = Upgrade(kProxy, "203.0.113.2");
  EXPECT_TRUE(Upgraded(*b)) << "another client: " << b->in();
  // One of a's closes: the server releases its place once it reads the close.
  a.pop_back();
  EXPECT_TRUE(WaitFor([&] { return Upgraded(*Upgrade(kProxy, "203.0.113.1")); }, std::chrono::seconds(5)));

  // An untrusted peer is capped at accept, as itself, whatever it forwards for.
  std::vector<std::unique_ptr<RawConn>> spoofer;
  for (const char* client : {"203.0.113.20", "203.0.113.21"}) {
    spoofer.push_back(Upgrade(kUntrusted, client));
    ASSERT_TRUE(Upgraded(*spoofer.back())) << spoofer.back()->in();
  }
  RawConn refused(stack->port(), 0, kUntrusted);
  EXPECT_TRUE(refused.RefusedWithin(std::chrono::seconds(5))) << refused.in();
}

TEST_F(TrustedProxyTest, MetricsOnTheClientPortAnswerOnlyTheAllowedClients) {
  Start(0);
  EXPECT_EQ(Metrics(kProxy, ""), 200) << "the host itself (a Prometheus beside it)";
  EXPECT_EQ(Metrics(kUntrusted, ""), 200) << "127.0.0.2 is loopback too";
  EXPECT_EQ(Metrics(kUntrusted, "203.0.113.1"), 403)
      << "a proxy on this host that is not trusted (a tunnel) forwards for clients anywhere";
  EXPECT_EQ(Metrics(kProxy, "203.0.113.1"), 403) << "a client on the internet, through the proxy";
  EXPECT_EQ(Metrics(kProxy, "::1"), 200) << "loopback through the proxy";

  stack->StopIngress();
  ASSERT_TRUE(stack->StartIngress([](IngressConfig& c) {
    c.trusted_proxies = "127.0.0.1/32";
    c.metrics_allow = "198.51.100.0/24";
  }).ok());
  EXPECT_EQ(Metrics(kProxy, "198.51.100.7"), 200) << "a Prometheus in the allowed range";
  EXPECT_EQ(Metrics(kProxy, ""), 403) << "loopback is allowed only by the default";
  auto error = HttpRequest("GET", stack->Url("/metrics"));
  ASSERT_TRUE(error.ok()) << error.status().ToString();
  EXPECT_EQ(error->status, 403);
  EXPECT_NE(error->body.find("\"forbidden\""), std::string::npos) << error->body;
  EXPECT_NE(error->body.find("--metrics-allow"), std::string::npos) << "says how to get in: " << error->body;
}

}  // namespace
}  // namespace chatpipe::test
