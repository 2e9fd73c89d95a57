// BucketSpec and TokenBucket: the shape of a rate limit, and one bucket kept in memory.
//
// A limit "N/PERIOD" lets N requests through at once and then one every PERIOD/N: a bucket of N
// tokens, refilled evenly over PERIOD, each request taking one. The same arithmetic runs in Redis
// for the limits shared by every ingress instance (kTokenBucketScript, storage/redis_keys.h); a
// TokenBucket is the local one, for limits that belong to one connection and so to one loop.
//
// A TokenBucket is 16 bytes and knows nothing of its spec, which the caller passes on each use (the
// spec is configuration, shared by every connection). It takes a clock reading rather than reading a
// clock, so that tests move time by hand. Not thread-safe: a connection's buckets live on its loop.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

#include "common/status.h"

namespace chatpipe {

struct BucketSpec {
  int burst = 0;           // tokens when full; 0: no limit ("off")
  int64_t period_ms = 0;   // time to refill from empty to full
  bool off() const { return burst <= 0 || period_ms <= 0; }
  // Milliseconds until `tokens` (a level below 1) has grown to one whole token.
  int64_t WaitMs(double tokens) const;
  std::string ToString() const;  // "30/10s", or "off"
};

// "N/PERIOD", PERIOD a number (1 if left out) and a unit: ms, s, m or h ("30/10s", "5/m",
// "3/200ms"); or "off". N is 1 to 1,000,000.
Result<BucketSpec> ParseBucketSpec(std::string_view text);
// For CLI11, which parses and prints option values through streams.
std::istream& operator>>(std::istream& in, BucketSpec& spec);
std::ostream& operator<<(std::ostream& out, const BucketSpec& spec);

class TokenBucket {
 public:
  // Takes a token at `now_ms` (any clock that does not go back): 0 when one was taken, else how many
  // milliseconds until one will be there (nothing is taken then). Always 0 when the spec is off.
  int64_t Take(const BucketSpec& spec, int64_t now_ms);

 private:
  double tokens_ = -1;  // below 0: never used, so full
  int64_t at_ms_ = 0;   // when tokens_ was last brought up to date
};

}  // namespace chatpipe
