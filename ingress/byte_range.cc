#include "ingress/byte_range.h"

#include <charconv>

namespace chatpipe {
namespace {

bool ParseNumber(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

RangeRequest ParseRange(std::string_view header, uint64_t size) {
  using Kind = RangeRequest::Kind;
  constexpr std::string_view kUnit = "bytes=";
  if (header.substr(0, kUnit.size()) != kUnit) return {};
  std::string_view spec = header.substr(kUnit.size());
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos || spec.find(',') != std::string_view::npos) return {};
  std::string_view from = spec.substr(0, dash), to = spec.substr(dash + 1);
  uint64_t first = 0, last = 0;
  if (from.empty()) {  // the last N bytes
    if (!ParseNumber(to, &last)) return {};
    if (last == 0 || size == 0) return {Kind::kUnsatisfiable};
    return {Kind::kPart, last >= size ? 0 : size - last, size - 1};
  }
  if (!ParseNumber(from, &first) || (!to.empty() && (!ParseNumber(to, &last) || last < first))) return {};
  if (first >= size) return {Kind::kUnsatisfiable};
  return {Kind::kPart, first, to.empty() || last >= size ? size - 1 : last};
}

}  // namespace chatpipe
