// Client addresses: who a request comes from when a proxy (nginx) stands between the client and
// ingress, and the text per-address limits count a client under.
//
// A TCP peer in a --trusted-proxies range may say, in X-Forwarded-For, whom it forwards for; any other
// peer is its own client and its header is ignored, so a client cannot spoof its way around a limit.
// The header is walked from the right, as nginx's realip module does with real_ip_recursive: each
// trusted hop appended the address it saw, so the rightmost address that is not itself trusted is the
// client. Every hop trusted: the leftmost. A missing header, or an entry that is not a plain IPv4 or
// IPv6 address reached before the client (a port, brackets, "unknown", an empty item), gives the
// peer itself: garbage is never a key a client could vary at will. Entries left of the client are
// its own input and never read. The request parser's header limit (16 KiB) bounds the header; each
// byte is looked at a bounded number of times.
//
// Pure: bytes in, an address out, no I/O. Connection keeps the peer and asks here once per request
// (nginx reuses an upstream connection for many clients) and at a WebSocket upgrade.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chatpipe {

// An IPv4 or IPv6 address; IPv4 is held IPv4-mapped (::ffff:a.b.c.d), so one range check serves both.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  bool operator==(const IpAddress&) const = default;
};

// A plain IPv4 ("192.0.2.1") or IPv6 ("2001:db8::1") address, nothing around it.
std::optional<IpAddress> ParseIpAddress(std::string_view text);
// The address of an AF_INET or AF_INET6 socket address (the unspecified address for anything else).
IpAddress IpAddressOf(const sockaddr* addr);

// What the per-address limits (connections, and the Redis buckets of rate_limits.h) count a client
// under: an IPv4 address as text ("192.0.2.1"), an IPv6 address by its /64 ("2001:db8:1:2::/64"),
// as one subscriber usually holds a whole /64 and could otherwise take a fresh address per request.
std::string AddressKey(const IpAddress& address);

// A list of address ranges, such as --trusted-proxies or --metrics-allow.
class AddressRanges {
 public:
  // "CIDR[,CIDR...]": IPv4 or IPv6 addresses, each with an optional /prefix-length (none: the
  // address alone). Empty: no range. False, with *error naming the bad item, otherwise.
  static bool Parse(std::string_view list, AddressRanges* out, std::string* error);

  bool empty() const { return ranges_.empty(); }
  bool Contains(const IpAddress& address) const;

 private:
  struct Range {
    IpAddress base;  // with the bits past `bits` cleared
    int bits;        // 0-128, counted on the IPv4-mapped form
  };
  std::vector<Range> ranges_;
};

class TrustedProxies {
 public:
  // As AddressRanges::Parse: the ranges of the proxies trusted.
  static bool Parse(std::string_view list, TrustedProxies* out, std::string* error) {
    return AddressRanges::Parse(list, &out->ranges_, error);
  }

  bool empty() const { return ranges_.empty(); }
  bool Contains(const IpAddress& address) const { return ranges_.Contains(address); }
  // The client of a request `peer` sent with `headers` (as http::Request holds them): `peer` unless
  // it is trusted, else what its X-Forwarded-For says (all such headers, read as one list).
  IpAddress ClientOf(const IpAddress& peer, const std::vector<std::pair<std::string, std::string>>& headers) const;

 private:
  AddressRanges ranges_;
};

}  // namespace chatpipe
