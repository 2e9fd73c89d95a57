// Histogram: a log-bucketed histogram of non-negative integers (latencies in microseconds), in the
// manner of HdrHistogram: values below 256 are kept exactly, larger ones in buckets no wider than
// 1/128 of their value, so every percentile is within 0.8% of the truth and never below it.
//
// Recording is one index computation and an increment, cheap enough for every delivery a load
// generator sees. The bucket array grows only as far as the largest value recorded (8 B a bucket:
// 2 KiB up to 255 us, then 1 KiB a power of two, about 14 KiB up to 1 s; 34 KiB at most), so an
// empty histogram costs nothing and the generator can keep one per room. One histogram per thread, merged at the end; Merge and the JSON form (sparse
// bucket list) let several generator processes be combined exactly, not by averaging percentiles.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/writer.h>
#include <rapidjson/stringbuffer.h>

#include "common/status.h"

namespace chatpipe::bench {

class Histogram {
 public:
  static constexpr int kSubBits = 8;                    // 256 exact values, then 128 per power of two
  static constexpr uint64_t kMaxValue = (1ull << 40) - 1;  // larger values are recorded as this
  static const size_t kBuckets;                         // IndexOf(kMaxValue) + 1

  void Record(uint64_t value);
  void Merge(const Histogram& other);

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0; }
  // The smallest recorded-bucket upper bound with at least `percent` of the values at or below it
  // (clamped to [min, max]); 0 when empty. ValueAt(100) is max().
  uint64_t ValueAt(double percent) const;

  // {"count":..,"min":..,"max":..,"sum":..,"sub_bits":8,"buckets":[[index,count],...]}
  void WriteJson(rapidjson::Writer<rapidjson::StringBuffer>& w) const;
  static Result<Histogram> FromJson(const rapidjson::Value& v);

  // Bucket arithmetic, exposed for the test.
  static size_t IndexOf(uint64_t value);
  static uint64_t HighestEquivalent(size_t index);

 private:
  void Grow(size_t index);  // makes room for counts_[index]

  std::vector<uint64_t> counts_;  // up to the largest index recorded, rounded up to 128 buckets
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  uint64_t sum_ = 0;
};

}  // namespace chatpipe::bench
