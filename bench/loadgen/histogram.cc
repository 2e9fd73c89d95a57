#include "bench/loadgen/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace chatpipe::bench {
namespace {

constexpr uint64_t kExact = 1ull << Histogram::kSubBits;  // 256
constexpr uint64_t kHalf = kExact / 2;                    // 128 buckets per power of two above

}  // namespace

// Values below 256 index themselves. Above, v has its top bit at `msb` >= 8; shifting it right by
// msb-7 leaves a number in [128, 256), whose low 7 bits pick one of 128 buckets for that power of two.
size_t Histogram::IndexOf(uint64_t value) {
  if (value < kExact) return static_cast<size_t>(value);
  const int msb = 63 - std::countl_zero(value);
  const int shift = msb - (kSubBits - 1);
  return static_cast<size_t>(kExact + (shift - 1) * kHalf + ((value >> shift) - kHalf));
}

uint64_t Histogram::HighestEquivalent(size_t index) {
  if (index < kExact) return index;
  const uint64_t above = index - kExact;
  const int shift = static_cast<int>(above / kHalf) + 1;
  const uint64_t top = kHalf + above % kHalf;  // in [128, 256)
  return ((top + 1) << shift) - 1;
}

const size_t Histogram::kBuckets = Histogram::IndexOf(Histogram::kMaxValue) + 1;

// A power of two's buckets at a time (1 KiB), each allocation exact: a histogram holds at most
// 1 KiB more than its largest value needs, after at most 34 allocations.
void Histogram::Grow(size_t index) {
  const size_t size = std::min(kBuckets, (index / kHalf + 1) * kHalf);
  counts_.reserve(size);
  counts_.resize(size, 0);
}

void Histogram::Record(uint64_t value) {
  value = std::min(value, kMaxValue);
  const size_t index = IndexOf(value);
  if (index >= counts_.size()) Grow(index);
  ++counts_[index];
  ++count_;
  sum_ += value;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void Histogram::Merge(const Histogram& other) {
  if (other.counts_.size() > counts_.size()) Grow(other.counts_.size() - 1);
  for (size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t Histogram::ValueAt(double percent) const {
  if (count_ == 0) return 0;
  percent = std::clamp(percent, 0.0, 100.0);
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(percent / 100.0 * count_)));
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(HighestEquivalent(i), min_, max_);
  }
  return max_;
}

void Histogram::WriteJson(rapidjson::Writer<rapidjson::StringBuffer>& w) const {
  w.StartObject();
  w.Key("count");
  w.Uint64(count_);
  w.Key("min");
  w.Uint64(min());
  w.Key("max");
  w.Uint64(max_);
  w.Key("sum");
  w.Uint64(sum_);
  w.Key("sub_bits");
  w.Int(kSubBits);
  w.Key("buckets");
  w.StartArray();
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (!counts_[i]) continue;
    w.StartArray();
    w.Uint64(i);
    w.Uint64(counts_[i]);
    w.EndArray();
  }
  w.EndArray();
  w.EndObject();
}

Result<Histogram> Histogram::FromJson(const rapidjson::Value& v) {
  auto bad = [](const char* why) { return Status::InvalidArgument("bad_histogram", why); };
  if (!v.IsObject()) return bad("a histogram must be an object");
  for (const char* key : {"count", "min", "max", "sum", "sub_bits"})
    if (!v.HasMember(key) || !v[key].IsUint64()) return bad("a histogram needs unsigned count, min, max, sum, sub_bits");
  if (v["sub_bits"].GetUint64() != kSubBits) return bad("histogram from a generator with other buckets");
  if (!v.HasMember("buckets") || !v["buckets"].IsArray()) return bad("a histogram needs a buckets array");
  Histogram h;
  uint64_t total = 0;
  for (const auto& b : v["buckets"].GetArray()) {
    if (!b.IsArray() || b.Size() != 2 || !b[0].IsUint64() || !b[1].IsUint64() || b[0].GetUint64() >= kBuckets)
      return bad("a bucket must be [index, count] with an index in range");
    const size_t index = b[0].GetUint64();
    if (index >= h.counts_.size()) h.Grow(index);
    h.counts_[index] += b[1].GetUint64();
    total += b[1].GetUint64();
  }
  h.count_ = v["count"].GetUint64();
  if (total != h.count_) return bad("bucket counts do not add up to count");
  h.sum_ = v["sum"].GetUint64();
  h.max_ = v["max"].GetUint64();
  h.min_ = h.count_ ? v["min"].GetUint64() : UINT64_MAX;
  return h;
}

}  // namespace chatpipe::bench
