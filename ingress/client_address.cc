#include "ingress/client_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace chatpipe {
namespace {

constexpr std::array<uint8_t, 12> kV4Mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool IsV4(const IpAddress& a) { return std::equal(kV4Mapped.begin(), kV4Mapped.end(), a.bytes.begin()); }

IpAddress FromV4(const void* four_bytes) {
  IpAddress a;
  std::copy(kV4Mapped.begin(), kV4Mapped.end(), a.bytes.begin());
  std::memcpy(&a.bytes[12], four_bytes, 4);
  return a;
}

// `a` with every bit past the first `bits` cleared.
IpAddress Masked(IpAddress a, int bits) {
  for (int i = 0; i < 16; ++i) {
    const int keep = std::clamp(bits - 8 * i, 0, 8);
    a.bytes[i] &= static_cast<uint8_t>(0xff00 >> keep);
  }
  return a;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsForwardedFor(std::string_view name) {
  constexpr std::string_view kName = "x-forwarded-for";
  return name.size() == kName.size() && strncasecmp(name.data(), kName.data(), kName.size()) == 0;
}

}  // namespace

std::optional<IpAddress> ParseIpAddress(std::string_view text) {
  char buf[INET6_ADDRSTRLEN];  // inet_pton wants a terminated string; longer text is no address
  if (text.empty() || text.size() >= sizeof buf) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  if (text.find(':') == std::string_view::npos) {
    in_addr v4{};
    if (inet_pton(AF_INET, buf, &v4) != 1) return std::nullopt;
    return FromV4(&v4);
  }
  IpAddress a;
  if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1) return std::nullopt;
  return a;
}

IpAddress IpAddressOf(const sockaddr* addr) {
  if (addr->sa_family == AF_INET) return FromV4(&reinterpret_cast<const sockaddr_in*>(addr)->sin_addr);
  IpAddress a;
  if (addr->sa_family == AF_INET6)
    std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, 16);
  return a;
}

std::string AddressKey(const IpAddress& address) {
  char text[INET6_ADDRSTRLEN] = "";
  if (IsV4(address)) {
    inet_ntop(AF_INET, &address.bytes[12], text, sizeof text);
    return text;
  }
  const IpAddress prefix = Masked(address, 64);
  inet_ntop(AF_INET6, prefix.bytes.data(), text, sizeof text);
  return std::string(text) + "/64";
}

bool AddressRanges::Parse(std::string_view list, AddressRanges* out, std::string* error) {
  out->ranges_.clear();
  if (Trim(list).empty()) return true;
  for (size_t start = 0;;) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string_view item = Trim(list.substr(start, comma - start));
    const size_t slash = std::min(item.find('/'), item.size());
    const std::optional<IpAddress> address = ParseIpAddress(item.substr(0, slash));
    const int max_bits = address && IsV4(*address) && item.find(':') == std::string_view::npos ? 32 : 128;
    int bits = max_bits;
    if (slash < item.size()) {
      const std::string_view digits = item.substr(slash + 1);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
      if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) bits = -1;
    }
    if (!address || bits < 0 || bits > max_bits) {
      *error = "not an address or CIDR range: '" + std::string(item) + "'";
      return false;
    }
    if (max_bits == 32) bits += 96;  // counted on the IPv4-mapped form
    out->ranges_.push_back({Masked(*address, bits), bits});
    if (comma == list.size()) return true;
    start = comma + 1;
  }
}

bool AddressRanges::Contains(const IpAddress& address) const {
  return std::any_of(ranges_.begin(), ranges_.end(),
                     [&](const Range& r) { return Masked(address, r.bits) == r.base; });
}

IpAddress TrustedProxies::ClientOf(const IpAddress& peer,
                                   const std::vector<std::pair<std::string, std::string>>& headers) const {
  if (!Contains(peer)) return peer;
  std::optional<IpAddress> leftmost;  // the last trusted hop walked
  // Several headers read as one list, in order: the last one's last entry is the rightmost.
  for (auto h = headers.rbegin(); h != headers.rend(); ++h) {
    if (!IsForwardedFor(h->first)) continue;
    const std::string_view list = h->second;
    for (size_t end = list.size();;) {
      const size_t comma = end == 0 ? std::string_view::npos : list.rfind(',', end - 1);
      const size_t start = comma == std::string_view::npos ? 0 : comma + 1;
      const std::optional<IpAddress> hop = ParseIpAddress(Trim(list.substr(start, end - start)));
      if (!hop) return peer;
      if (!Contains(*hop)) return *hop;
      leftmost = hop;
      if (comma == std::string_view::npos) break;
      end = comma;
    }
  }
  return leftmost.value_or(peer);
}

}  // namespace chatpipe
