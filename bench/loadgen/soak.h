// The `soak` subcommand of chatpipe-loadgen: memory and latency over time for bench/run's soak
// scenario, and its verdict on "memory stays flat".
//
// It reads the merged report (report.json, whose Stats carry a Timeline) and the memory samples
// bench/run took every few seconds (memory.csv: unix_ms,process,kind,metric,value; kind is
// "chatpipe" for ingress and worker processes, "service" for Kafka, PostgreSQL and Redis), and
// writes beside them timeline.csv (per window: sends, acks, deliveries, delivered ratio, latency
// percentiles), soak.json, and three plots: soak-memory.svg (what the verdict judges), soak-services.svg
// (the services' RSS) and soak-latency.svg. The pure parts (CSV parsing, the fitted line, the
// flatness rule) are functions of their own, for the test.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace chatpipe::bench {

struct MemorySample {
  int64_t unix_ms = 0;
  std::string process;  // "ingress.0", "worker-persist.0", "kafka", "postgres", "redis"
  std::string kind;     // "chatpipe" or "service"; the capacity ramp's also "machine" (the kernel) and "loadgen"
  std::string metric;   // "rss_kb", "anon_kb", "fds", "threads", "pss_kb", "used_memory_kb", ...
  double value = 0;
};

// memory.csv's text: a header line, then one sample a line. Bad lines are an error naming the line.
Result<std::vector<MemorySample>> ParseMemoryCsv(std::string_view text);

// The least-squares line through (x, y) points; none for fewer than two distinct x.
struct FittedLine {
  double slope = 0;
  double intercept = 0;
};
std::optional<FittedLine> FitLine(const std::vector<std::pair<double, double>>& points);

// "Memory stays flat": over the judged span (the second half of the sending window, after the warm-up
// of buffers and allocator arenas), the fitted line may rise by at most the larger of `percent` of
// the series' mean there and `floor_kib`. A fall is flat.
struct FlatRule {
  double percent = 2;
  double floor_kib = 2048;
};

struct Trend {
  std::string process, kind, metric;
  bool judged = false;     // chatpipe's processes' RSS, and the data chatpipe keeps in Redis
  size_t samples = 0;      // in the judged span
  double first = 0;        // the first sample at or after the sending started, and the last of the span
  double last = 0;
  double mean = 0;         // over the span
  double slope_per_min = 0;
  double rise = 0;         // of the fitted line across the span
  double allowed = 0;
  bool flat = true;
};

// The trend of one series of (seconds since sending started, value) over [from_s, to_s].
Trend TrendOf(const std::vector<std::pair<double, double>>& points, double from_s, double to_s, const FlatRule& rule);

// What is judged: RSS of chatpipe's own processes, and Redis's used_memory (chatpipe's data in it).
bool Judged(const std::string& kind, const std::string& metric);

struct SoakOptions {
  std::string report;  // report.json of `chatpipe-loadgen report`; the soak's files go beside it
  std::string memory;  // memory.csv
  FlatRule rule;
};

// Prints the figures and the verdict; true when the soak's checks held: every message sent was
// acked, delivered to every member exactly once (and persisted, when the report says), no connection
// ended early, and every judged memory series stayed flat.
Result<bool> Soak(const SoakOptions& options);

}  // namespace chatpipe::bench
