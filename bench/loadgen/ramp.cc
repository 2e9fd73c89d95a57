#include "bench/loadgen/ramp.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "bench/loadgen/files.h"

namespace chatpipe::bench {
namespace {

constexpr double kKibPerGib = 1024.0 * 1024.0;

struct Curve {
  const char* process;
  const char* metric;
  const char* label;
  double scale;  // value * scale is what is drawn
};

TimeSeries SeriesOf(const std::vector<MemorySample>& samples, int64_t t0, const Curve& c, size_t color) {
  TimeSeries s{c.label, SeriesColor(color), {}};
  for (const MemorySample& m : samples)
    if (m.process == c.process && m.metric == c.metric)
      s.points.emplace_back(static_cast<double>(m.unix_ms - t0) / 1000.0, m.value * c.scale);
  return s;
}

}  // namespace

RampPlots MakeRampPlots(const std::vector<MemorySample>& samples,
                        const std::vector<std::pair<int64_t, std::string>>& marks,
                        const std::vector<std::string>& title) {
  int64_t t0 = samples.empty() ? 0 : samples.front().unix_ms;
  for (const MemorySample& m : samples) t0 = std::min(t0, m.unix_ms);
  RampPlots plots;
  plots.connections.title = {"capacity: connections over time"};
  plots.connections.y_label = "connections";
  // Both ends of a loopback connection are sockets of this namespace: half the sockets in use.
  plots.connections.series.push_back(SeriesOf(samples, t0, {"kernel", "tcp_sockets", "open (TCP sockets in use / 2)", 0.5}, 0));
  plots.memory.title = {"capacity: memory over time"};
  plots.memory.y_label = "GiB";
  const Curve memory[] = {{"kernel", "slab_kb", "kernel slab (both ends' sockets)", 1 / kKibPerGib},
                          {"ingress", "rss_kb", "ingress RSS, all processes", 1 / kKibPerGib},
                          {"loadgen", "rss_kb", "generators' RSS, all processes", 1 / kKibPerGib},
                          {"kernel", "tcp_mem_kb", "TCP buffers (queued bytes)", 1 / kKibPerGib}};
  for (size_t i = 0; i < std::size(memory); ++i) plots.memory.series.push_back(SeriesOf(samples, t0, memory[i], i));
  for (TimePlot* p : {&plots.connections, &plots.memory}) {
    p->x_label = "seconds since the generators started";
    p->title.insert(p->title.end(), title.begin(), title.end());
    for (const auto& [ms, label] : marks) p->marks.emplace_back(static_cast<double>(ms - t0) / 1000.0, label);
  }
  return plots;
}

Status PlotRamp(const RampOptions& o) {
  auto text = ReadFile(o.samples);
  if (!text.ok()) return text.status();
  auto samples = ParseMemoryCsv(*text);
  if (!samples.ok()) return Status::InvalidArgument("bad_ramp_csv", o.samples + ": " + samples.status().detail());
  std::vector<std::pair<int64_t, std::string>> marks;
  for (const std::string& m : o.marks) {
    size_t eq = m.find('=');
    int64_t ms = 0;
    try {
      ms = std::stoll(m.substr(0, eq));
    } catch (...) {
      eq = std::string::npos;
    }
    if (eq == std::string::npos) return Status::InvalidArgument("bad_mark", "--mark must be UNIX_MS=label, got " + m);
    marks.emplace_back(ms, m.substr(eq + 1));
  }
  const RampPlots plots = MakeRampPlots(*samples, marks, o.title);
  const std::filesystem::path dir = std::filesystem::path(o.samples).parent_path();
  if (Status s = WriteFile(dir / "ramp-connections.svg", RenderTimeSvg(plots.connections)); !s.ok()) return s;
  return WriteFile(dir / "ramp-memory.svg", RenderTimeSvg(plots.memory));
}

}  // namespace chatpipe::bench
