#include "bench/loadgen/soak.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "bench/loadgen/files.h"
#include "bench/loadgen/plot.h"
#include "bench/loadgen/stats.h"

namespace chatpipe::bench {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
using Series = std::vector<std::pair<double, double>>;

// A p99 send->delivery above this in the judged span means the stack was not keeping up.
constexpr double kBehindMs = 1000;

std::vector<std::string_view> SplitCsv(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t from = 0;
  for (size_t comma; (comma = line.find(',', from)) != std::string_view::npos; from = comma + 1)
    fields.push_back(line.substr(from, comma - from));
  fields.push_back(line.substr(from));
  return fields;
}

template <typename T>
bool ParseNumber(std::string_view text, T* out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && p == text.data() + text.size();
}

std::string Num(double v, int decimals) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string Ms(uint64_t us) { return Num(us / 1000.0, us < 10000 ? 2 : 0); }

double Number(const rapidjson::Value& object, const char* key, double fallback) {
  return object.IsObject() && object.HasMember(key) && object[key].IsNumber() ? object[key].GetDouble() : fallback;
}

std::string Text(const rapidjson::Value& object, const char* key) {
  return object.IsObject() && object.HasMember(key) && object[key].IsString() ? object[key].GetString() : "?";
}

// "12.3 MiB" for a KiB figure, or the plain count for descriptors and threads.
std::string Amount(const std::string& metric, double v) {
  if (metric.size() > 3 && metric.compare(metric.size() - 3, 3, "_kb") == 0) return Num(v / 1024, 1) + " MiB";
  return Num(v, 0);
}

std::string Signed(const std::string& amount) { return amount[0] == '-' ? amount : "+" + amount; }

}  // namespace

Result<std::vector<MemorySample>> ParseMemoryCsv(std::string_view text) {
  std::vector<MemorySample> samples;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line_no == 1 || line.empty()) continue;  // the header
    const auto f = SplitCsv(line);
    MemorySample s;
    if (f.size() != 5 || !ParseNumber(f[0], &s.unix_ms) || f[1].empty() || f[3].empty() ||
        (f[2] != "chatpipe" && f[2] != "service" && f[2] != "machine" && f[2] != "loadgen") ||
        !ParseNumber(f[4], &s.value))
      return Status::InvalidArgument("bad_memory_csv", "line " + std::to_string(line_no) +
                                                           ": expected unix_ms,process,chatpipe|service|machine|loadgen,metric,number");
    s.process = f[1];
    s.kind = f[2];
    s.metric = f[3];
    samples.push_back(std::move(s));
  }
  return samples;
}

std::optional<FittedLine> FitLine(const Series& points) {
  if (points.size() < 2) return std::nullopt;
  double mx = 0, my = 0;
  for (const auto& [x, y] : points) {
    mx += x;
    my += y;
  }
  mx /= points.size();
  my /= points.size();
  double sxx = 0, sxy = 0;
  for (const auto& [x, y] : points) {
    sxx += (x - mx) * (x - mx);
    sxy += (x - mx) * (y - my);
  }
  if (sxx <= 0) return std::nullopt;
  FittedLine line;
  line.slope = sxy / sxx;
  line.intercept = my - line.slope * mx;
  return line;
}

Trend TrendOf(const Series& points, double from_s, double to_s, const FlatRule& rule) {
  Trend t;
  Series span;
  bool started = false;
  for (const auto& p : points) {
    if (p.first >= 0 && !started) {
      started = true;
      t.first = p.second;
    }
    if (p.first >= from_s && p.first <= to_s) span.push_back(p);
  }
  t.samples = span.size();
  if (span.empty()) return t;
  t.last = span.back().second;
  for (const auto& p : span) t.mean += p.second;
  t.mean /= span.size();
  if (auto line = FitLine(span)) {
    t.slope_per_min = line->slope * 60;
    t.rise = line->slope * (span.back().first - span.front().first);
  }
  t.allowed = std::max(rule.floor_kib, t.mean * rule.percent / 100);
  t.flat = t.rise <= t.allowed;
  return t;
}

bool Judged(const std::string& kind, const std::string& metric) {
  return (kind == "chatpipe" && metric == "rss_kb") || metric == "used_memory_kb";
}

Result<bool> Soak(const SoakOptions& o) {
  auto report_text = ReadFile(o.report);
  if (!report_text.ok()) return report_text.status();
  rapidjson::Document report;
  report.Parse(report_text->c_str());
  if (report.HasParseError() || !report.IsObject() || !report.HasMember("stats") || !report.HasMember("conditions"))
    return Status::InvalidArgument("bad_report", o.report + " is not a chatpipe-loadgen report");
  auto stats = Stats::FromJson(report["stats"]);
  if (!stats.ok()) return stats.status();
  const Timeline& timeline = stats->timeline;
  if (!timeline.on())
    return Status::InvalidArgument("no_timeline", o.report + " has no time windows: run the generators with --window");
  auto memory_text = ReadFile(o.memory);
  if (!memory_text.ok()) return memory_text.status();
  auto samples = ParseMemoryCsv(*memory_text);
  if (!samples.ok()) return Status::InvalidArgument("bad_memory_csv", o.memory + ": " + samples.status().detail());

  const rapidjson::Value& conditions = report["conditions"];
  const rapidjson::Value& figures = report.HasMember("figures") ? report["figures"] : conditions;
  const double duration = Number(conditions, "duration_s", 0);
  const double window_s = timeline.window_ns() / 1e9;
  const double start_ms = timeline.start_ns() / 1e6;

  // Memory series by (process, metric), in seconds since the sending started.
  struct Key {
    std::string process, kind, metric;
    bool operator<(const Key& k) const { return std::tie(process, metric) < std::tie(k.process, k.metric); }
  };
  std::map<Key, Series> series;
  for (const MemorySample& s : *samples)
    series[{s.process, s.kind, s.metric}].emplace_back((s.unix_ms - start_ms) / 1000, s.value);
  std::vector<Trend> trends;
  for (auto& [key, points] : series) {
    std::sort(points.begin(), points.end());
    Trend t = TrendOf(points, duration / 2, duration, o.rule);
    t.process = key.process;
    t.kind = key.kind;
    t.metric = key.metric;
    t.judged = Judged(key.kind, key.metric);
    trends.push_back(std::move(t));
  }

  // Deliveries: each acked message is expected at every member of its room; a window's expected
  // count is its acks times the run's mean members per acked message (rooms are of one size here).
  const double expected = Number(figures, "expected_deliveries", 0);
  const double per_ack = stats->acked ? expected / stats->acked : 0;
  std::ostringstream csv;
  csv << "t_s,sent,acked,delivered,delivered_ratio,p50_ms,p99_ms,max_ms\n";
  double worst_ratio = 1, worst_p99 = 0, judged_p99 = 0;  // judged_p99: the worst in the judged span
  Series p50, p99, pmax;
  for (size_t i = 0; i < timeline.windows().size(); ++i) {
    const TimeWindow& w = timeline.windows()[i];
    const double t = i * window_s;
    const double want = w.acked * per_ack;
    const double ratio = want > 0 ? w.delivered / want : (w.delivered ? 1 : 0);
    const Histogram& h = w.delivery_us;
    csv << Num(t, 1) << "," << w.sent << "," << w.acked << "," << w.delivered << "," << Num(ratio, 4) << ","
        << Num(h.ValueAt(50) / 1000.0, 2) << "," << Num(h.ValueAt(99) / 1000.0, 2) << "," << Num(h.max() / 1000.0, 2)
        << "\n";
    if (!w.acked) continue;
    worst_ratio = std::min(worst_ratio, ratio);
    worst_p99 = std::max(worst_p99, h.ValueAt(99) / 1000.0);
    if (t >= duration / 2) judged_p99 = std::max(judged_p99, h.ValueAt(99) / 1000.0);
    const double mid = t + window_s / 2;
    p50.emplace_back(mid, h.ValueAt(50) / 1000.0);
    p99.emplace_back(mid, h.ValueAt(99) / 1000.0);
    pmax.emplace_back(mid, h.max() / 1000.0);
  }

  // The checks.
  const uint64_t lost = static_cast<uint64_t>(Number(figures, "lost", 0));
  uint64_t refused = 0, closed = 0, failed = 0;
  for (const auto& [code, n] : stats->send_errors) refused += n;
  for (const auto& [code, n] : stats->closed) closed += n;
  for (const auto& [code, n] : stats->connect_errors) failed += n;
  for (const auto& [code, n] : stats->join_errors) failed += n;
  const bool have_persisted = report.HasMember("server") && report["server"].IsObject() &&
                              report["server"].HasMember("persisted");
  const double persisted = have_persisted ? Number(report["server"], "persisted", 0) : 0;
  std::vector<std::pair<std::string, bool>> checks = {
      {"every message sent was acked (" + std::to_string(stats->acked) + " of " + std::to_string(stats->sent) +
           ", refused " + std::to_string(refused) + ", unacked " + std::to_string(stats->unacked) + ")",
       stats->sent > 0 && stats->acked == stats->sent},
      {"every acked message reached every member once (lost " + std::to_string(lost) + ", duplicates " +
           std::to_string(stats->duplicates) + ")",
       lost == 0 && stats->duplicates == 0},
      {"no connection failed to open or join (" + std::to_string(failed) + ", visitors coming back included: " +
           std::to_string(stats->reconnected) + " came back) or ended early (" + std::to_string(closed) + ")",
       failed == 0 && closed == 0},
  };
  if (have_persisted)
    checks.push_back({"every acked message persisted (" + Num(persisted, 0) + " of " + std::to_string(stats->acked) + ")",
                      persisted >= static_cast<double>(stats->acked)});
  bool flat = true;
  size_t judged = 0;
  for (const Trend& t : trends)
    if (t.judged) {
      ++judged;
      flat = flat && t.flat && t.samples >= 2;
    }
  checks.push_back({"memory stays flat (" + std::to_string(judged) + " series judged over " + Num(duration / 2, 0) +
                        "-" + Num(duration, 0) + " s)",
                    flat && judged > 0});

  // The text.
  std::ostringstream out;
  out << "soak: memory and latency over time (" << Num(window_s, 0) << "-second windows, " << Num(duration, 0)
      << " s of sending)\n";
  out << "  conditions   commit " << Text(conditions, "commit") << ", " << Text(conditions, "build") << " build; ingress "
      << Text(conditions, "ingress") << "; workers " << Text(conditions, "workers") << "; "
      << Text(conditions, "limits") << "\n";
  out << "latency per window (send->delivery, by the messages' send time)\n";
  const size_t n = timeline.windows().size();
  const size_t every = std::max<size_t>(1, (n + 19) / 20);  // at most about 20 rows
  out << "  t (s)     sent    acked  delivered  ratio    p50 ms   p99 ms   max ms\n";
  for (size_t i = 0; i < n; ++i) {
    if (i % every != 0 && i + 1 != n) continue;
    const TimeWindow& w = timeline.windows()[i];
    const double want = w.acked * per_ack;
    char row[160];
    snprintf(row, sizeof row, "  %5.0f %8lu %8lu %10lu  %5.3f  %8s %8s %8s\n", i * window_s,
             static_cast<unsigned long>(w.sent), static_cast<unsigned long>(w.acked),
             static_cast<unsigned long>(w.delivered), want > 0 ? w.delivered / want : 0.0,
             Ms(w.delivery_us.ValueAt(50)).c_str(), Ms(w.delivery_us.ValueAt(99)).c_str(),
             Ms(w.delivery_us.max()).c_str());
    out << row;
  }
  out << "  worst window: delivered ratio " << Num(worst_ratio, 4) << ", p99 " << Num(worst_p99, 2) << " ms\n";
  out << "memory (first sample after the start, last of the judged span, fitted slope and rise over "
      << Num(duration / 2, 0) << "-" << Num(duration, 0) << " s)\n";
  std::string fds, heap;
  for (const Trend& t : trends) {
    if (t.metric == "fds") fds += " " + t.process + " " + Amount(t.metric, t.first) + "->" + Amount(t.metric, t.last) + ",";
    if (t.metric == "anon_kb") heap += " " + t.process + " " + Amount(t.metric, t.last) + ",";
    if (t.metric != "rss_kb" && t.metric != "pss_kb" && t.metric != "used_memory_kb") continue;
    char row[256];
    snprintf(row, sizeof row, "  %-18s %-14s %11s -> %11s  slope %10s/min  rise %11s  %s\n", t.process.c_str(),
             t.metric.c_str(), Amount(t.metric, t.first).c_str(), Amount(t.metric, t.last).c_str(),
             Signed(Amount(t.metric, t.slope_per_min)).c_str(), Signed(Amount(t.metric, t.rise)).c_str(),
             !t.judged ? "(not judged)"
             : t.samples < 2 ? "TOO FEW SAMPLES"
             : t.flat ? ("flat (<= " + Amount(t.metric, t.allowed) + ")").c_str()
                      : ("GROWS (> " + Amount(t.metric, t.allowed) + ")").c_str());
    out << row;
  }
  if (!heap.empty()) out << "  heap (RssAnon) at the end of the span:" << heap.substr(0, heap.size() - 1) << "\n";
  if (!fds.empty()) out << "  descriptors:" << fds.substr(0, fds.size() - 1) << "\n";
  bool held = true;
  out << "checks\n";
  for (const auto& [what, ok] : checks) {
    out << "  " << (ok ? "held   " : "FAILED ") << what << "\n";
    held = held && ok;
  }
  if (!flat && judged_p99 > kBehindMs)
    out << "  NOTE   the stack was behind its load while memory was judged (p99 up to " << Num(judged_p99, 0)
        << " ms): what waits in its queues grows with the backlog, which is not a leak; judge memory on a run "
           "that keeps up (a quiet machine, or less load)\n";
  out << "verdict: " << (held ? "the soak's checks held" : "the soak's checks did NOT hold") << "\n";
  fputs(out.str().c_str(), stdout);

  // The files.
  const std::filesystem::path dir = std::filesystem::path(o.report).parent_path();
  if (Status s = WriteFile(dir / "timeline.csv", csv.str()); !s.ok()) return s;
  if (Status s = WriteFile(dir / "soak.txt", out.str()); !s.ok()) return s;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("held");
  w.Bool(held);
  w.Key("checks");
  w.StartArray();
  for (const auto& [what, ok] : checks) {
    w.StartObject();
    w.Key("check");
    w.String(what.c_str());
    w.Key("held");
    w.Bool(ok);
    w.EndObject();
  }
  w.EndArray();
  w.Key("rule");
  w.StartObject();
  w.Key("percent");
  w.Double(o.rule.percent);
  w.Key("floor_kib");
  w.Double(o.rule.floor_kib);
  w.EndObject();
  w.Key("memory");
  w.StartArray();
  for (const Trend& t : trends) {
    w.StartObject();
    for (auto [key, value] : {std::pair{"process", &t.process}, {"kind", &t.kind}, {"metric", &t.metric}}) {
      w.Key(key);
      w.String(value->c_str());
    }
    for (auto [key, value] : {std::pair{"first", t.first}, {"last", t.last}, {"mean", t.mean},
                              {"slope_per_min", t.slope_per_min}, {"rise", t.rise}, {"allowed", t.allowed}}) {
      w.Key(key);
      w.Double(value);
    }
    w.Key("samples");
    w.Uint64(t.samples);
    w.Key("judged");
    w.Bool(t.judged);
    w.Key("flat");
    w.Bool(t.flat);
    w.EndObject();
  }
  w.EndArray();
  w.Key("timeline");
  timeline.WriteJson(w);
  w.EndObject();
  if (Status s = WriteFile(dir / "soak.json", std::string(buf.GetString()) + "\n"); !s.ok()) return s;

  const std::string conditions_line = "commit " + Text(conditions, "commit") + "; ingress " +
                                      Text(conditions, "ingress") + "; workers " + Text(conditions, "workers");
  const std::string load_line = Num(Number(conditions, "connections", 0), 0) + " connections, " +
                                Num(Number(conditions, "rooms", 0), 0) + " rooms, " +
                                Num(Number(conditions, "rate", 0), 0) + " msg/s for " + Num(duration, 0) +
                                " s; machine: " + Text(conditions, "cpus") + " cpus, load avg " +
                                Text(conditions, "load avg");
  auto memory_plot = [&](bool chatpipe, const std::string& title) {
    TimePlot plot;
    plot.title = {title, load_line, conditions_line};
    plot.y_label = "MiB";
    plot.marks = {{duration, "sending ends"}};
    for (const Trend& t : trends) {
      const bool mine = chatpipe ? t.judged : (t.kind == "service" && (t.metric == "rss_kb" || t.metric == "pss_kb"));
      if (!mine) continue;
      TimeSeries s{t.process + " " + t.metric + ": " + Amount(t.metric, t.first) + " -> " + Amount(t.metric, t.last) +
                       ", " + Amount(t.metric, t.slope_per_min) + "/min in the second half" +
                       (t.judged ? (t.flat ? " (flat)" : " (GROWS)") : ""),
                   SeriesColor(plot.series.size()), {}};
      for (const auto& [sec, kib] : series[{t.process, t.kind, t.metric}]) s.points.emplace_back(sec, kib / 1024);
      plot.series.push_back(std::move(s));
    }
    return RenderTimeSvg(plot);
  };
  if (Status s = WriteFile(dir / "soak-memory.svg",
                           memory_plot(true, std::string("soak: chatpipe's memory over time (") +
                                                 (flat ? "flat" : "NOT flat") + ")"));
      !s.ok())
    return s;
  if (Status s = WriteFile(dir / "soak-services.svg", memory_plot(false, "soak: the services' memory over time"));
      !s.ok())
    return s;
  TimePlot latency;
  latency.title = {"soak: send->delivery latency per " + Num(window_s, 0) + "-second window (worst p99 " +
                       Num(worst_p99, 2) + " ms, worst delivered ratio " + Num(worst_ratio, 4) + ")",
                   load_line, conditions_line};
  latency.y_label = "latency (ms)";
  latency.marks = {{duration, "sending ends"}};
  latency.series = {{"max", SeriesColor(3), pmax}, {"p99", SeriesColor(1), p99}, {"p50", SeriesColor(0), p50}};
  if (Status s = WriteFile(dir / "soak-latency.svg", RenderTimeSvg(latency)); !s.ok()) return s;
  return held;
}

}  // namespace chatpipe::bench
