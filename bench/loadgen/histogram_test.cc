#include "bench/loadgen/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace chatpipe::bench {
namespace {

// The exact percentile of a sample: the smallest value with at least p% of the values at or below it.
uint64_t ExactPercentile(std::vector<uint64_t> v, double p) {
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * v.size()));
  return v[std::max<size_t>(rank, 1) - 1];
}

TEST(HistogramTest, SmallValuesAreExact) {
  Histogram h;
  for (uint64_t v = 1; v <= 200; ++v) h.Record(v);
  EXPECT_EQ(h.count(), 200u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 200u);
  EXPECT_EQ(h.ValueAt(50), 100u);
  EXPECT_EQ(h.ValueAt(99), 198u);
  EXPECT_EQ(h.ValueAt(99.9), 200u);
  EXPECT_EQ(h.ValueAt(100), 200u);
  EXPECT_EQ(h.ValueAt(0), 1u);
  EXPECT_DOUBLE_EQ(h.mean(), 100.5);
}

TEST(HistogramTest, EmptyHistogramReportsZero) {
  Histogram h;
  EXPECT_EQ(h.ValueAt(99), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
}

TEST(HistogramTest, BucketsCoverEveryValueOnceAndStayNarrow) {
  // Consecutive indexes, each bucket's bounds hold the values mapped to it, width <= value / 128.
  uint64_t low = 0;
  for (size_t i = 0; i <= Histogram::IndexOf(Histogram::kMaxValue); ++i) {
    const uint64_t high = Histogram::HighestEquivalent(i);
    ASSERT_EQ(Histogram::IndexOf(low), i);
    ASSERT_EQ(Histogram::IndexOf(high), i);
    ASSERT_LE(high - low, std::max<uint64_t>(low / 128, 0)) << "bucket " << i;
    low = high + 1;
  }
  EXPECT_EQ(low - 1, Histogram::kMaxValue);
}

TEST(HistogramTest, PercentilesOfLargeValuesAreWithinOnePercentAndNeverBelow) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> latency(8.0, 1.5);  // microseconds: ~3 ms median, long tail
  std::vector<uint64_t> values;
  Histogram h;
  for (int i = 0; i < 100000; ++i) {
    uint64_t v = static_cast<uint64_t>(latency(rng)) + 1;
    values.push_back(v);
    h.Record(v);
  }
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9, 99.99}) {
    const uint64_t exact = ExactPercentile(values, p);
    const uint64_t got = h.ValueAt(p);
    EXPECT_GE(got, exact) << "p" << p;
    EXPECT_LE(got, exact + exact / 128) << "p" << p;
  }
  EXPECT_EQ(h.ValueAt(100), *std::max_element(values.begin(), values.end()));
}

TEST(HistogramTest, ValuesAboveTheRangeAreClamped) {
  Histogram h;
  h.Record(UINT64_MAX);
  EXPECT_EQ(h.max(), Histogram::kMaxValue);
  EXPECT_EQ(h.ValueAt(50), Histogram::kMaxValue);
}

TEST(HistogramTest, MergeEqualsRecordingEverythingInOne) {
  Histogram a, b, all;
  for (uint64_t v = 0; v < 5000; v += 3) {
    (v % 2 ? a : b).Record(v * 17);
    all.Record(v * 17);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
  for (double p : {10.0, 50.0, 99.0, 99.9}) EXPECT_EQ(a.ValueAt(p), all.ValueAt(p));
}

// Buckets are allocated only as far as the values recorded: merging a histogram of small values
// with one of large values, either way round or into an empty one, loses nothing.
TEST(HistogramTest, MergeAcrossDifferentRangesEqualsRecordingEverythingInOne) {
  Histogram small, large, all;
  for (uint64_t v = 1; v <= 200; ++v) {
    small.Record(v);
    large.Record(v * 1'000'000);
    all.Record(v);
    all.Record(v * 1'000'000);
  }
  Histogram small_first = small, large_first = large, empty;
  small_first.Merge(large);
  large_first.Merge(small);
  empty.Merge(small_first);
  for (const Histogram* h : {&small_first, &large_first, &empty}) {
    EXPECT_EQ(h->count(), all.count());
    EXPECT_EQ(h->max(), all.max());
    for (double p : {25.0, 50.0, 75.0, 99.0}) EXPECT_EQ(h->ValueAt(p), all.ValueAt(p)) << p;
  }
}

TEST(HistogramTest, JsonRoundTripKeepsEveryBucket) {
  Histogram h;
  for (uint64_t v : {3u, 300u, 30000u, 3000000u, 3000000u}) h.Record(v);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  h.WriteJson(w);
  rapidjson::Document doc;
  doc.Parse(buf.GetString());
  auto back = Histogram::FromJson(doc);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->count(), 5u);
  EXPECT_EQ(back->min(), 3u);
  EXPECT_EQ(back->max(), 3000000u);
  for (double p : {20.0, 40.0, 60.0, 100.0}) EXPECT_EQ(back->ValueAt(p), h.ValueAt(p));
}

TEST(HistogramTest, JsonWhoseBucketsDisagreeWithCountIsRefused) {
  rapidjson::Document doc;
  doc.Parse(R"({"count":3,"min":1,"max":1,"sum":3,"sub_bits":8,"buckets":[[1,2]]})");
  EXPECT_FALSE(Histogram::FromJson(doc).ok());
  doc.Parse(R"({"count":1,"min":1,"max":1,"sum":1,"sub_bits":7,"buckets":[[1,1]]})");
  EXPECT_FALSE(Histogram::FromJson(doc).ok());
}

}  // namespace
}  // namespace chatpipe::bench
