// Process-wide metrics in the Prometheus text format, served at /metrics by every chatpipe process.
//
// Counters and gauges are registered once by name (usually at start-up) and then updated through the
// returned reference without locks. A family (one name, help and type) may hold several series told
// apart by labels, e.g. chatpipe_worker_events_total{worker="persist"}; its # HELP and # TYPE lines are
// rendered once, before all its series. Metrics::Global() owns them for the life of the process.
//
// A LatencyHistogram counts durations into fixed buckets (100 µs to 10 s), rendered as a Prometheus
// histogram in seconds, so a scraper can tell where a message's milliseconds go (docs/operations.md).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace chatpipe {

class Metric {
 public:
  void Add(int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

class LatencyHistogram {
 public:
  // Bucket upper bounds in µs; a last bucket (+Inf) takes the rest.
  static constexpr std::array<int64_t, 26> kBoundsUs = {
      100,    250,    500,    1000,   2000,   3000,    5000,    7500,    10000,   15000,   20000,   30000,   50000,
      75000, 100000, 150000, 200000, 300000, 500000, 750000, 1000000, 1500000, 2000000, 3000000, 5000000, 10000000};

  // `count` events that each took `us` (a batch's duration counts once per event in it).
  void Observe(int64_t us, int64_t count = 1);
  void Observe(std::chrono::steady_clock::duration d, int64_t count = 1) {
    Observe(std::chrono::duration_cast<std::chrono::microseconds>(d).count(), count);
  }
  // The Prometheus lines of this series: `name`_bucket (cumulative, with le), _sum and _count.
  std::string Render(const std::string& name, const std::string& labels) const;

 private:
  std::array<std::atomic<int64_t>, kBoundsUs.size() + 1> buckets_{};
  std::atomic<int64_t> sum_us_{0};
};

// The one family of per-hop latencies, told apart by the label hop (and worker, in a worker).
inline constexpr char kLatencyMetric[] = "chatpipe_latency_seconds";
inline constexpr char kLatencyHelp[] = "time a message spends in one hop of the path (docs/operations.md)";

// Label names and values of one series, in the order they are rendered.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  static Metrics& Global();
  // Returns the series of that name and labels, creating it on first use. `type` is "counter" or
  // "gauge"; the family keeps the help and type it was first registered with (a help given later
  // fills an empty one).
  Metric& Get(const std::string& name, const std::string& help, const char* type = "counter",
              const MetricLabels& labels = {});
  LatencyHistogram& GetHistogram(const std::string& name, const std::string& help, const MetricLabels& labels = {});
  // Registers a family whose series come later (their label values are known when they first
  // count), so that /metrics describes it from the start and dashboards can name it.
  void Declare(const std::string& name, const std::string& help, const char* type = "counter");
  std::string Render() const;

 private:
  struct Series {
    std::string labels;  // rendered: {name="value",...}, or empty
    Metric metric;
    std::unique_ptr<LatencyHistogram> histogram;  // set in a "histogram" family
  };
  struct Family;
  Family& FindFamily(const std::string& name, const std::string& help, const char* type);  // mu_ held
  Series& Find(const std::string& name, const std::string& help, const char* type, const MetricLabels& labels);
  struct Family {
    std::string name, help, type;
    std::deque<Series> series;  // deque: references stay valid as it grows
  };
  mutable std::mutex mu_;
  std::deque<Family> families_;
};

inline Metric& Counter(const std::string& name, const std::string& help, const MetricLabels& labels = {}) {
  return Metrics::Global().Get(name, help, "counter", labels);
}
inline Metric& Gauge(const std::string& name, const std::string& help, const MetricLabels& labels = {}) {
  return Metrics::Global().Get(name, help, "gauge", labels);
}
inline LatencyHistogram& Histogram(const std::string& name, const std::string& help, const MetricLabels& labels = {}) {
  return Metrics::Global().GetHistogram(name, help, labels);
}

}  // namespace chatpipe
