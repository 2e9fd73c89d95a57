#include "ingress/client_address.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace chatpipe {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

IpAddress Ip(const char* text) {
  auto a = ParseIpAddress(text);
  EXPECT_TRUE(a) << text;
  return a.value_or(IpAddress{});
}

TrustedProxies Trust(const char* list) {
  TrustedProxies t;
  std::string error;
  EXPECT_TRUE(TrustedProxies::Parse(list, &t, &error)) << error;
  return t;
}

// The key of the client ClientOf finds for `forwarded_for` sent by `peer`.
std::string Client(const TrustedProxies& t, const char* peer, const Headers& headers) {
  return AddressKey(t.ClientOf(Ip(peer), headers));
}

TEST(ClientAddressTest, ParsesPlainAddressesOnly) {
  EXPECT_EQ(AddressKey(Ip("192.0.2.1")), "192.0.2.1");
  EXPECT_EQ(AddressKey(Ip("::ffff:192.0.2.1")), "192.0.2.1") << "an IPv4-mapped address is the IPv4 client";
  for (const char* bad : {"", "192.0.2", "192.0.2.1.5", "192.0.2.256", "192.0.2.1:80", "[2001:db8::1]",
                          "[2001:db8::1]:443", "unknown", "2001:db8::1%eth0", " 192.0.2.1", "2001:db8:::1",
                          "1111:2222:3333:4444:5555:6666:7777:8888:9999"})
    EXPECT_FALSE(ParseIpAddress(bad)) << bad;
}

TEST(ClientAddressTest, AnIpv6ClientIsKeyedByItsSlash64) {
  EXPECT_EQ(AddressKey(Ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
  EXPECT_EQ(AddressKey(Ip("2001:db8:1:2:bbbb::7")), AddressKey(Ip("2001:db8:1:2:aaaa::1")))
      << "one subscriber's prefix is one client";
  EXPECT_NE(AddressKey(Ip("2001:db8:1:3::1")), AddressKey(Ip("2001:db8:1:2::1")));
}

TEST(ClientAddressTest, ParsesRangesAndRefusesBadOnes) {
  TrustedProxies t = Trust(" 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32");
  EXPECT_TRUE(t.Contains(Ip("10.200.3.4")));
  EXPECT_FALSE(t.Contains(Ip("11.0.0.1")));
  EXPECT_TRUE(t.Contains(Ip("192.0.2.7")));
  EXPECT_FALSE(t.Contains(Ip("192.0.2.8"))) << "no prefix: the one address";
  EXPECT_TRUE(t.Contains(Ip("2001:db8:ffff::1")));
  EXPECT_FALSE(t.Contains(Ip("2001:db9::1")));
  EXPECT_TRUE(Trust("").empty());
  EXPECT_TRUE(Trust("0.0.0.0/0").Contains(Ip("203.0.113.9")));
  EXPECT_FALSE(Trust("0.0.0.0/0").Contains(Ip("2001:db8::1"))) << "an IPv4 range holds no IPv6 address";
  for (const char* bad : {"10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "10.0.0.0/8x", "10.0.0.0/-1",
                          "localhost", "10.0.0.0/8,", "10.0.0.0/8,,192.0.2.1"}) {
    TrustedProxies out;
    std::string error;
    EXPECT_FALSE(TrustedProxies::Parse(bad, &out, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(ClientAddressTest, AnUntrustedPeerIsItsOwnClientWhateverItSays) {
  TrustedProxies t = Trust("127.0.0.1/32");
  EXPECT_EQ(Client(t, "127.0.0.2", {{"X-Forwarded-For", "203.0.113.5"}}), "127.0.0.2");
  EXPECT_EQ(Client(TrustedProxies(), "127.0.0.1", {{"X-Forwarded-For", "203.0.113.5"}}), "127.0.0.1")
      << "no proxy trusted: today's behaviour";
}

TEST(ClientAddressTest, TheRightmostUntrustedHopIsTheClient) {
  TrustedProxies t = Trust("127.0.0.1/32,10.0.0.0/8");
  EXPECT_EQ(Client(t, "127.0.0.1", {{"x-forwarded-for", "203.0.113.5"}}), "203.0.113.5");
  // The client wrote the first two entries itself: they are never read.
  EXPECT_EQ(Client(t, "127.0.0.1", {{"X-Forwarded-For", "1.1.1.1, 8.8.8.8, 203.0.113.5, 10.1.2.3"}}),
            "203.0.113.5");
  EXPECT_EQ(Client(t, "127.0.0.1", {{"X-Forwarded-For", "garbage, 203.0.113.5,10.1.2.3"}}), "203.0.113.5")
      << "garbage left of the client is the client's own";
  EXPECT_EQ(Client(t, "127.0.0.1", {{"X-Forwarded-For", "10.9.9.9, 10.1.2.3"}}), "10.9.9.9")
      << "every hop trusted: the leftmost";
  EXPECT_EQ(Client(t, "127.0.0.1", {{"X-Forwarded-For", "2001:db8:1:2::99"}}), "2001:db8:1:2::/64");
}

TEST(ClientAddressTest, SeveralHeadersAreOneList) {
  TrustedProxies t = Trust("127.0.0.1/32,10.0.0.0/8");
  EXPECT_EQ(Client(t, "127.0.0.1",
                   {{"X-Forwarded-For", "198.51.100.1"}, {"Accept", "*/*"}, {"X-Forwarded-For", "203.0.113.5, 10.0.0.1"}}),
            "203.0.113.5");
  EXPECT_EQ(Client(t, "127.0.0.1", {{"X-Forwarded-For", "198.51.100.1"}, {"X-Forwarded-For", "10.0.0.1"}}),
            "198.51.100.1");
}

TEST(ClientAddressTest, AMissingOrMalformedHeaderFromAProxyMeansTheProxy) {
  TrustedProxies t = Trust("127.0.0.1/32,10.0.0.0/8");
  EXPECT_EQ(Client(t, "127.0.0.1", {}), "127.0.0.1");
  for (const char* bad : {"", " ", "203.0.113.5,", "203.0.113.5, , 10.0.0.1", "203.0.113.5:4711", "unknown",
                          "203.0.113.5, nonsense", "[2001:db8::1]"})
    EXPECT_EQ(Client(t, "127.0.0.1", {{"X-Forwarded-For", bad}}), "127.0.0.1") << "'" << bad << "'";
}

TEST(ClientAddressTest, ALongHeaderIsReadOnlyUpToTheClient) {
  TrustedProxies t = Trust("127.0.0.1/32,10.0.0.0/8");
  // 16 KiB of hops a client made up, then the address the proxy saw: the walk stops at the latter.
  std::string chain;
  while (chain.size() < 16384) chain += "198.51.100.1, ";
  EXPECT_EQ(Client(t, "127.0.0.1", {{"X-Forwarded-For", chain + "203.0.113.5"}}), "203.0.113.5");
  // A trusted chain as long walks it all, once, and ends at its leftmost hop.
  std::string trusted;
  while (trusted.size() < 16384) trusted += "10.0.0.1,";
  EXPECT_EQ(Client(t, "127.0.0.1", {{"X-Forwarded-For", "10.7.7.7," + trusted}}), "127.0.0.1")
      << "the trailing comma: an empty entry";
  EXPECT_EQ(Client(t, "127.0.0.1", {{"X-Forwarded-For", "10.7.7.7," + trusted + "10.0.0.2"}}), "10.7.7.7");
  EXPECT_EQ(Client(t, "127.0.0.1", {{"X-Forwarded-For", std::string(20000, '1')}}), "127.0.0.1")
      << "one entry too long to be an address";
}

}  // namespace
}  // namespace chatpipe
