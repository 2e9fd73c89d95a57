// Range requests (RFC 9110 section 14) for objects: which bytes of a `size`-byte object a Range
// header asks for. Pure. Only single ranges are served; a header we do not serve (several ranges,
// another unit, malformed) is ignored, and the whole object is sent, as the RFC allows.
#pragma once

#include <cstdint>
#include <string_view>

namespace chatpipe {

struct RangeRequest {
  enum class Kind { kWhole, kPart, kUnsatisfiable } kind = Kind::kWhole;
  uint64_t first = 0;  // kPart: bytes first..last, both inclusive
  uint64_t last = 0;
};

// `header` is the Range header's value, or empty when there is none.
RangeRequest ParseRange(std::string_view header, uint64_t size);

}  // namespace chatpipe
