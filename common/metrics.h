// Process-wide metrics in the Prometheus text format, served at /metrics by every chatpipe process.
//
// Counters and gauges are registered once by name (usually at start-up) and then updated through the
// returned reference without locks. Metrics::Global() owns them for the life of the process.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

namespace chatpipe {

class Metric {
 public:
  void Add(int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

class Metrics {
 public:
  static Metrics& Global();
  // Returns the metric of that name, creating it on first use. `type` is "counter" or "gauge".
  Metric& Get(const std::string& name, const std::string& help, const char* type = "counter");
  std::string Render() const;

 private:
  struct Entry {
    std::string name, help, type;
    Metric metric;
  };
  mutable std::mutex mu_;
  std::deque<Entry> entries_;  // deque: references stay valid as it grows
};

inline Metric& Counter(const std::string& name, const std::string& help) { return Metrics::Global().Get(name, help); }
inline Metric& Gauge(const std::string& name, const std::string& help) {
  return Metrics::Global().Get(name, help, "gauge");
}

}  // namespace chatpipe
