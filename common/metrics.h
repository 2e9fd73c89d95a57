// Process-wide metrics in the Prometheus text format, served at /metrics by every chatpipe process.
//
// Counters and gauges are registered once by name (usually at start-up) and then updated through the
// returned reference without locks. A family (one name, help and type) may hold several series told
// apart by labels, e.g. chatpipe_worker_events_total{worker="persist"}; its # HELP and # TYPE lines are
// rendered once, before all its series. Metrics::Global() owns them for the life of the process.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
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
  std::string Render() const;

 private:
  struct Series {
    std::string labels;  // rendered: {name="value",...}, or empty
    Metric metric;
  };
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

}  // namespace chatpipe
