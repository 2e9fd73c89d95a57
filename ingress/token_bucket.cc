#include "ingress/token_bucket.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <istream>
#include <ostream>

namespace chatpipe {

int64_t BucketSpec::WaitMs(double tokens) const {
  // The epsilon keeps rounding error (0.999 tokens: 1.0000000000000009 ms) from adding a millisecond.
  double ms = (1 - tokens) * static_cast<double>(period_ms) / burst;
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(ms - 1e-9)));
}

std::string BucketSpec::ToString() const {
  if (off()) return "off";
  std::string period;
  if (period_ms % 3600000 == 0) period = std::to_string(period_ms / 3600000) + "h";
  else if (period_ms % 60000 == 0) period = std::to_string(period_ms / 60000) + "m";
  else if (period_ms % 1000 == 0) period = std::to_string(period_ms / 1000) + "s";
  else period = std::to_string(period_ms) + "ms";
  return std::to_string(burst) + "/" + period;
}

Result<BucketSpec> ParseBucketSpec(std::string_view text) {
  if (text == "off") return BucketSpec{};
  Status bad = Status::InvalidArgument(
      "bad_limit", "a limit is N/PERIOD (N 1 to 1000000; PERIOD like 10s, 500ms, 5m, 1h) or off, not \"" +
                       std::string(text) + "\"");
  BucketSpec spec;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), spec.burst);
  if (ec != std::errc() || p == text.data() + text.size() || *p != '/' || spec.burst < 1 || spec.burst > 1000000)
    return bad;
  std::string_view period(p + 1, text.data() + text.size() - (p + 1));
  int64_t count = 1;
  if (!period.empty() && period[0] >= '0' && period[0] <= '9') {
    auto [q, ec2] = std::from_chars(period.data(), period.data() + period.size(), count);
    if (ec2 != std::errc() || count < 1 || count > 1000000) return bad;
    period.remove_prefix(static_cast<size_t>(q - period.data()));
  }
  int64_t unit = 0;
  if (period == "ms") unit = 1;
  else if (period == "s") unit = 1000;
  else if (period == "m") unit = 60000;
  else if (period == "h") unit = 3600000;
  else return bad;
  spec.period_ms = count * unit;
  return spec;
}

std::istream& operator>>(std::istream& in, BucketSpec& spec) {
  std::string text;
  in >> text;
  auto parsed = ParseBucketSpec(text);
  if (parsed.ok()) spec = *parsed;
  else in.setstate(std::ios::failbit);
  return in;
}

std::ostream& operator<<(std::ostream& out, const BucketSpec& spec) { return out << spec.ToString(); }

int64_t TokenBucket::Take(const BucketSpec& spec, int64_t now_ms) {
  if (spec.off()) return 0;
  if (tokens_ < 0) {
    tokens_ = spec.burst;
    at_ms_ = now_ms;
  }
  if (now_ms > at_ms_) {
    tokens_ = std::min<double>(spec.burst, tokens_ + static_cast<double>(now_ms - at_ms_) * spec.burst / spec.period_ms);
    at_ms_ = now_ms;
  }
  if (tokens_ < 1) return spec.WaitMs(tokens_);
  tokens_ -= 1;
  return 0;
}

}  // namespace chatpipe
