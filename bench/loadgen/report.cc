#include "bench/loadgen/report.h"

#include <rapidjson/document.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "bench/loadgen/files.h"
#include "bench/loadgen/plot.h"
#include "bench/loadgen/rooms.h"
#include "bench/loadgen/stats.h"

namespace chatpipe::bench {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

struct Merged {
  Stats stats;
  int processes = 0;
  int64_t connections = 0, senders = 0, rooms = 0, threads = 0;
  double rate = 0, duration_s = 0;
  int64_t text_bytes = 0;
  int64_t start_ns = 0;
};

Status Load(const std::string& path, Merged* m) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  rapidjson::Document doc;
  doc.Parse(text->c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("config") || !doc.HasMember("stats") ||
      !doc.HasMember("start_ns") || !doc["config"].IsObject() || !doc["start_ns"].IsInt64())
    return Status::InvalidArgument("bad_result", path + " is not a chatpipe-loadgen result");
  auto stats = Stats::FromJson(doc["stats"]);
  if (!stats.ok()) return Status::InvalidArgument("bad_result", path + ": " + stats.status().detail());
  if (!m->stats.timeline.Compatible(stats->timeline))
    return Status::InvalidArgument("bad_result", path + ": its time windows are cut from another start or width");
  m->stats.Merge(*stats);
  const auto& c = doc["config"];
  auto num = [&](const char* key) { return c.HasMember(key) && c[key].IsNumber() ? c[key].GetDouble() : 0.0; };
  m->processes++;
  m->connections += static_cast<int64_t>(num("connections"));
  m->senders += static_cast<int64_t>(num("senders"));
  m->threads += static_cast<int64_t>(num("threads"));
  m->rooms = std::max(m->rooms, static_cast<int64_t>(num("rooms")));
  m->rate += num("rate");
  m->duration_s = std::max(m->duration_s, num("duration_s"));
  m->text_bytes = std::max(m->text_bytes, static_cast<int64_t>(num("text_bytes")));
  const int64_t start = doc["start_ns"].GetInt64();
  m->start_ns = m->start_ns ? std::min(m->start_ns, start) : start;
  return Status::Ok();
}

Status ParsePairs(const std::vector<std::string>& pairs, std::vector<std::pair<std::string, std::string>>* out) {
  for (const std::string& p : pairs) {
    const size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) return Status::InvalidArgument("bad_pair", "expected key=value, got " + p);
    out->emplace_back(p.substr(0, eq), p.substr(eq + 1));
  }
  return Status::Ok();
}

std::string ReadFirstLine(const char* path, const char* prefix) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) return line;
  return "";
}

std::map<std::string, std::string> Machine() {
  std::map<std::string, std::string> m;
  m["cpus"] = std::to_string(sysconf(_SC_NPROCESSORS_ONLN));
  std::string model = ReadFirstLine("/proc/cpuinfo", "model name");
  m["cpu_model"] = model.empty() ? "unknown" : model.substr(model.find(':') + 2);
  std::string mem = ReadFirstLine("/proc/meminfo", "MemTotal:");
  long kb = 0;
  sscanf(mem.c_str(), "MemTotal: %ld", &kb);
  char gib[32];
  snprintf(gib, sizeof gib, "%.1f GiB", kb / 1048576.0);
  m["memory"] = gib;
  utsname u{};
  uname(&u);
  m["kernel"] = std::string(u.sysname) + " " + u.release;
  return m;
}

std::string Ms(uint64_t us) {
  char buf[32];
  snprintf(buf, sizeof buf, us < 10000 ? "%.2f ms" : "%.0f ms", us / 1000.0);
  return buf;
}

std::string Percentiles(const Histogram& h) {
  if (!h.count()) return "(none)";
  return "p50 " + Ms(h.ValueAt(50)) + "  p99 " + Ms(h.ValueAt(99)) + "  p99.9 " + Ms(h.ValueAt(99.9)) + "  max " +
         Ms(h.max());
}

std::string Codes(const std::map<std::string, uint64_t>& m) {
  if (m.empty()) return "none";
  std::string s;
  for (const auto& [code, n] : m) s += (s.empty() ? "" : ", ") + code + " x" + std::to_string(n);
  return s;
}

std::string Num(double v, int decimals = 0) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

void WriteHistogramSummary(Writer& w, const char* name, const Histogram& h) {
  w.Key(name);
  w.StartObject();
  w.Key("count");
  w.Uint64(h.count());
  for (auto [key, p] : {std::pair{"p50", 50.0}, {"p99", 99.0}, {"p99_9", 99.9}}) {
    w.Key(key);
    w.Uint64(h.ValueAt(p));
  }
  w.Key("max");
  w.Uint64(h.max());
  w.Key("mean");
  w.Double(h.mean());
  w.EndObject();
}

// The text report, with each main line also kept as a (figure, value) row, so report.md tells the
// same figures as report.txt.
struct Lines {
  using Rows = std::vector<std::pair<std::string, std::string>>;
  std::ostringstream text;
  Rows conditions, figures;
  Rows* rows = &figures;

  void Section(const std::string& heading) {
    text << heading << "\n";
    rows = heading == "conditions" ? &conditions : &figures;
  }
  void Line(const std::string& line, const std::string& figure, const std::string& value) {
    text << line << "\n";
    rows->emplace_back(figure, value);
  }
  // "  label      value", the value column aligned.
  void Row(const std::string& label, const std::string& value) {
    Line("  " + label + std::string(label.size() < 12 ? 12 - label.size() : 1, ' ') + " " + value, label, value);
  }
};

std::string Cell(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string Markdown(const std::string& scenario, const Lines& lines) {
  std::ostringstream md;
  md << "# chatpipe-loadgen report: " << scenario << "\n\n"
     << "Provisional: one shared 2-core machine runs the server, its services and the generators alike; compare runs "
        "made under the same conditions only.\n\n"
     << "![latency percentiles](report.svg)\n\n"
     << "| condition | value |\n|---|---|\n";
  for (const auto& [k, v] : lines.conditions) md << "| " << Cell(k) << " | " << Cell(v) << " |\n";
  md << "\n| figure | value |\n|---|---|\n";
  for (const auto& [k, v] : lines.figures) md << "| " << Cell(k) << " | " << Cell(v) << " |\n";
  return md.str();
}

std::string NoteOr(const std::vector<std::pair<std::string, std::string>>& notes, const std::string& key,
                   const std::string& fallback) {
  for (const auto& [k, v] : notes)
    if (k == key) return v;
  return fallback;
}

}  // namespace

Status Report(const ReportOptions& o) {
  if (o.files.empty()) return Status::InvalidArgument("no_results", "give the generator result files to merge");
  Merged m;
  for (const std::string& f : o.files)
    if (Status s = Load(f, &m); !s.ok()) return s;
  std::vector<std::pair<std::string, std::string>> notes, server_raw, cpu_raw;
  if (Status s = ParsePairs(o.notes, &notes); !s.ok()) return s;
  if (Status s = ParsePairs(o.server, &server_raw); !s.ok()) return s;
  if (Status s = ParsePairs(o.cpu, &cpu_raw); !s.ok()) return s;
  std::map<std::string, double> server;
  for (const auto& [k, v] : server_raw) server[k] = std::strtod(v.c_str(), nullptr);
  const Stats& s = m.stats;

  // Derived figures.
  const double window = std::max(m.duration_s, 1e-9);
  auto since_start = [&](int64_t ns) { return ns ? (ns - m.start_ns) / 1e9 : 0.0; };
  const double connect_s = s.connect_done_ns && s.connect_start_ns ? (s.connect_done_ns - s.connect_start_ns) / 1e9 : 0;
  const double sent_per_s = s.sent / window;
  const double accepted_per_s = s.acked / std::max(window, since_start(s.last_ack_ns));
  uint64_t expected = 0;
  for (const auto& [room, acked] : s.acked_by_room) {
    auto it = s.members_by_room.find(room);
    if (it != s.members_by_room.end()) expected += acked * it->second;
  }
  const uint64_t unique = s.delivered - s.duplicates;
  const uint64_t lost = expected > unique ? expected - unique : 0;
  const double deliveries_per_s = unique / std::max(window, since_start(s.last_delivery_ns));
  // Bytes per connection a figure grew by between two of the server's readings (in KiB); 0 without them.
  auto per_connection = [&](bool have, const char* after_kb, const char* before_kb) {
    return have && s.connected ? (server[after_kb] - server[before_kb]) * 1024 / s.connected : 0.0;
  };
  const bool have_rss = server.count("ingress_rss_before_kb") && server.count("ingress_rss_after_kb");
  const double rss_per_conn = per_connection(have_rss, "ingress_rss_after_kb", "ingress_rss_before_kb");
  const bool have_slab = server.count("slab_before_kb") && server.count("slab_after_kb");
  const double slab_per_conn = per_connection(have_slab, "slab_after_kb", "slab_before_kb");
  // Capacity with a hold: the same after the connections were held idle (pings and all).
  const bool have_held = have_rss && server.count("ingress_rss_held_kb") && server.count("slab_held_kb");
  const double rss_held_per_conn = per_connection(have_held, "ingress_rss_held_kb", "ingress_rss_before_kb");
  const double slab_held_per_conn = per_connection(have_held, "slab_held_kb", "slab_before_kb");
  // The ingress's own memory (RssAnon), without the shared program and library pages in VmRSS.
  const bool have_anon_held = have_held && server.count("ingress_anon_before_kb") && server.count("ingress_anon_held_kb");
  const double anon_held_per_conn = per_connection(have_anon_held, "ingress_anon_held_kb", "ingress_anon_before_kb");
  const double own_held_per_conn = have_anon_held ? anon_held_per_conn : rss_held_per_conn;
  const auto machine = Machine();
  // Per room only where there are several: with one, they are the whole run's figures.
  const RoomFigures rooms = SummarizeRooms(s.delivery_us_by_room, s.acked_by_room, s.members_by_room);
  const bool per_room = rooms.measured >= 2;

  // The text report.
  Lines t;
  t.text << "chatpipe-loadgen report: " << o.scenario
         << "  (provisional: one shared 2-core machine runs the server, its\n"
         << "  services and the generators alike; compare runs made under the same conditions only)\n";
  t.Section("conditions");
  const std::string machine_line = machine.at("cpus") + " cpus (" + machine.at("cpu_model") + "), " +
                                   machine.at("memory") + ", " + machine.at("kernel");
  t.Row("machine", machine_line);
  for (const auto& [k, v] : notes) t.Row(k, v);
  const std::string load_line = std::to_string(m.processes) + " processes, " + std::to_string(m.threads) +
                                " threads, " + std::to_string(m.connections) + " connections, " +
                                std::to_string(m.rooms) + " rooms, " + std::to_string(m.senders) + " senders, " +
                                Num(m.rate) + " msg/s for " + Num(m.duration_s, 1) + " s, text >= " +
                                std::to_string(m.text_bytes) + " B";
  t.Row("generators", load_line);
  t.Section("connections");
  // connect_s is known only once every thread had each of its connections open or failed.
  const std::string connect_time = connect_s > 0 ? " in " + Num(connect_s, 2) + " s" : " (not all opened in time)";
  t.Row("connected", std::to_string(s.connected) + " of " + std::to_string(m.connections) + connect_time +
                         "  (errors: " + Codes(s.connect_errors) + ")");
  t.Row("per connect", Percentiles(s.connect_us));
  if (s.joined || !s.join_errors.empty())
    t.Row("joined", std::to_string(s.joined) + "  (errors: " + Codes(s.join_errors) + ")");
  if (s.reconnected) t.Row("came back", std::to_string(s.reconnected) + " visitors left and connected and joined again");
  if (!s.closed.empty()) t.Row("ended early", Codes(s.closed));
  if (have_rss) {
    t.Section("server memory (VmRSS of the server processes, summed: ingress, or the peer)");
    const std::string memory = "before " + Num(server["ingress_rss_before_kb"] / 1024, 1) + " MiB, after " +
                               Num(server["ingress_rss_after_kb"] / 1024, 1) + " MiB: " + Num(rss_per_conn) +
                               " B per connection   [issue 6 target < 1024 B per idle connection: " +
                               (rss_per_conn < 1024 ? "met" : "NOT met") + "]";
    t.Line("  " + memory, "server memory", memory);
    if (have_slab) {
      const std::string slab = "grew " + Num(slab_per_conn) + " B per connection (both ends' sockets; not user space)";
      t.Line("  kernel slab " + slab, "kernel slab", slab);
    }
    if (have_held) {
      const std::string own = have_anon_held ? Num(anon_held_per_conn) + " B per connection of the ingress's own memory (RssAnon; VmRSS " +
                                                   Num(rss_held_per_conn) + " B)"
                                             : Num(rss_held_per_conn) + " B per connection in the ingress";
      const std::string held = own + ", kernel slab " + Num(slab_held_per_conn) + " B, " + Num(server["open_after_hold"]) +
                               " connections open (TCP sockets / 2)   [issue 21 target <= 700 B per connection: " +
                               (own_held_per_conn <= 700 ? "met" : "NOT met") + "]";
      t.Line("  after the hold: " + held, "after the hold", held);
    }
  }
  if (s.sent || m.rate > 0) {
    t.Section("sending (open loop, due times fixed in advance)");
    t.Row("sent", std::to_string(s.sent) + " (" + Num(sent_per_s, 1) + "/s; not sent for want of an open sender: " +
                      std::to_string(s.not_sent) + ")");
    t.Row("generator", "lag behind schedule " + Percentiles(s.lag_us));
    t.Row("accepted", std::to_string(s.acked) + " acked (" + Num(accepted_per_s, 1) + "/s), refused: " +
                          Codes(s.send_errors) + ", unacked at the end: " + std::to_string(s.unacked));
    t.Row("send->ack", Percentiles(s.ack_us));
    t.Section("receiving");
    t.Row("deliveries", std::to_string(unique) + " (" + Num(deliveries_per_s, 1) + "/s) of " +
                            std::to_string(expected) + " expected; lost " + std::to_string(lost) + ", duplicates " +
                            std::to_string(s.duplicates) + ", reordered " + std::to_string(s.reordered) +
                            ", other frames " + std::to_string(s.foreign));
    t.Row("send->deliv", Percentiles(s.delivery_us));
    if (per_room) {
      t.Row("rooms", std::to_string(rooms.measured) + " measured of " + std::to_string(rooms.with_members) +
                         " with members; no message in " + std::to_string(rooms.without_messages) + ", short of " +
                         "expected in " + std::to_string(rooms.short_of_expected) + "; deliveries per room " +
                         std::to_string(rooms.deliveries_min) + " .. " + std::to_string(rooms.deliveries_max));
      t.Row("room p99", "median room " + Ms(rooms.p99_median_us) + ", worst room " + Ms(rooms.p99_worst_us) +
                            " (room " + std::to_string(rooms.worst_room) + ")");
      t.Row("room p50", "median room " + Ms(rooms.p50_median_us));
    }
    if (s.sender_delivery_us.count() && s.sender_delivery_us.count() < s.delivery_us.count())
      t.Row("at senders", Percentiles(s.sender_delivery_us) + "  (their own thread reads them promptly)");
    if (s.drain_cut)
      t.Row("NOTE", "the drain hit its limit in " + std::to_string(s.drain_cut) + " of " + std::to_string(m.threads) +
                        " generator threads: the server had not caught up, so messages still in flight count as lost");
  }
  if (server.count("persisted"))
    t.Row("persisted", Num(server["persisted"]) + " of " + std::to_string(s.acked) + " acked messages in PostgreSQL" +
                           (server.count("persist_wait_s") ? " (" + Num(server["persist_wait_s"], 1) +
                                                                 " s after the window)"
                                                           : ""));
  if (server.count("persist_batches") && server["persist_batches"] > 0)
    t.Row("persist", "the worker applied " + Num(server["persist_messages"]) + " messages in " +
                         Num(server["persist_batches"]) + " batches (" +
                         Num(server["persist_messages"] / server["persist_batches"], 1) +
                         " per batch), warm-up included");
  if (!cpu_raw.empty()) {
    t.Section(o.scenario == "capacity" ? "cpu while the connections were held idle (% of one core)"
                                       : "cpu during the send window (% of one core)");
    std::string cpu;
    for (const auto& [k, v] : cpu_raw) cpu += (cpu.empty() ? "" : " ") + k + " " + v + "%";
    t.Line("  " + cpu, "cpu, % of one core during the send window", cpu);
  }
  const double p99_ms = s.delivery_us.ValueAt(99) / 1000.0;
  double target_ms = 0;
  std::string target;
  if (o.scenario == "fanout") {
    target_ms = 20;
    target = "1 room x 1000 subscribers at 2000 msg/s with p99 send->delivery < 20 ms; this run: " +
             std::to_string(m.rooms) + " rooms, " + Num(m.rate) + " msg/s, p99 " + Num(p99_ms, 2) + " ms";
  }
  if (o.scenario == "ingest") {
    target_ms = 50;
    target = "50000 msg/s accepted and persisted with p99 send->delivery < 50 ms; this run: " + Num(accepted_per_s) +
             " msg/s accepted, p99 " + Num(p99_ms, 2) + " ms";
  }
  if (!target.empty()) t.Line("target: " + target, "target", target);
  fputs(t.text.str().c_str(), stdout);

  // The JSON file.
  if (o.out.empty()) return Status::Ok();
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("scenario");
  w.String(o.scenario.c_str());
  w.Key("conditions");
  w.StartObject();
  for (const auto& [k, v] : machine) {
    w.Key(k.c_str());
    w.String(v.c_str());
  }
  for (const auto& [k, v] : notes) {
    w.Key(k.c_str());
    w.String(v.c_str());
  }
  w.Key("processes");
  w.Int(m.processes);
  w.Key("threads");
  w.Int64(m.threads);
  w.Key("connections");
  w.Int64(m.connections);
  w.Key("rooms");
  w.Int64(m.rooms);
  w.Key("senders");
  w.Int64(m.senders);
  w.Key("rate");
  w.Double(m.rate);
  w.Key("duration_s");
  w.Double(m.duration_s);
  w.Key("text_bytes");
  w.Int64(m.text_bytes);
  w.EndObject();
  w.Key("server");
  w.StartObject();
  for (const auto& [k, v] : server) {
    w.Key(k.c_str());
    w.Double(v);
  }
  w.EndObject();
  w.Key("cpu_percent");
  w.StartObject();
  for (const auto& [k, v] : cpu_raw) {
    w.Key(k.c_str());
    w.Double(std::strtod(v.c_str(), nullptr));
  }
  w.EndObject();
  w.Key("figures");
  w.StartObject();
  w.Key("connect_all_s");
  w.Double(connect_s);
  if (have_rss) {
    w.Key("ingress_rss_bytes_per_connection");
    w.Double(rss_per_conn);
  }
  if (have_slab) {
    w.Key("kernel_slab_bytes_per_connection");
    w.Double(slab_per_conn);
  }
  if (have_held) {
    w.Key("ingress_rss_bytes_per_connection_held");
    w.Double(rss_held_per_conn);
    w.Key("kernel_slab_bytes_per_connection_held");
    w.Double(slab_held_per_conn);
  }
  if (have_anon_held) {
    w.Key("ingress_anon_bytes_per_connection_held");
    w.Double(anon_held_per_conn);
  }
  w.Key("sent_per_s");
  w.Double(sent_per_s);
  w.Key("accepted_per_s");
  w.Double(accepted_per_s);
  w.Key("deliveries_per_s");
  w.Double(deliveries_per_s);
  w.Key("expected_deliveries");
  w.Uint64(expected);
  w.Key("unique_deliveries");
  w.Uint64(unique);
  w.Key("lost");
  w.Uint64(lost);
  if (per_room) {
    for (auto [key, v] : {std::pair{"rooms_measured", uint64_t{rooms.measured}},
                          {"rooms_without_messages", uint64_t{rooms.without_messages}},
                          {"rooms_short_of_expected", uint64_t{rooms.short_of_expected}},
                          {"room_deliveries_min", rooms.deliveries_min},
                          {"room_deliveries_max", rooms.deliveries_max},
                          {"room_p99_median_us", rooms.p99_median_us},
                          {"room_p99_worst_us", rooms.p99_worst_us},
                          {"room_p50_median_us", rooms.p50_median_us}}) {
      w.Key(key);
      w.Uint64(v);
    }
    w.Key("room_p99_worst_room");
    w.Int64(rooms.worst_room);
  }
  WriteHistogramSummary(w, "connect_us", s.connect_us);
  WriteHistogramSummary(w, "lag_us", s.lag_us);
  WriteHistogramSummary(w, "ack_us", s.ack_us);
  WriteHistogramSummary(w, "delivery_us", s.delivery_us);
  WriteHistogramSummary(w, "sender_delivery_us", s.sender_delivery_us);
  w.EndObject();
  w.Key("stats");
  s.WriteJson(w);
  w.EndObject();
  if (Status st = WriteFile(o.out, std::string(buf.GetString()) + "\n"); !st.ok()) return st;

  // report.md and report.svg beside it.
  const std::filesystem::path dir = std::filesystem::path(o.out).parent_path();
  if (Status st = WriteFile(dir / "report.md", Markdown(o.scenario, t)); !st.ok()) return st;
  LatencyPlot plot;
  if (o.scenario == "capacity") {
    plot.title.push_back("capacity: " + std::to_string(s.connected) + " of " + std::to_string(m.connections) +
                         " connected" + connect_time +
                         (have_rss ? ", " + Num(rss_per_conn) + " B server RSS per connection" : ""));
    plot.series.push_back({"connect time", "#2ca02c", s.connect_us});
  } else {
    plot.title.push_back(o.scenario + ": " + Num(deliveries_per_s, 1) + " deliveries/s, " + Num(accepted_per_s, 1) +
                         " msg/s accepted, lost " + std::to_string(lost) + " of " + std::to_string(expected));
    plot.series.push_back({"send->delivery", "#1f77b4", s.delivery_us});
    plot.series.push_back({"send->ack", "#ff7f0e", s.ack_us});
    if (per_room)
      plot.series.push_back({"send->delivery, worst room (" + std::to_string(rooms.worst_room) + ")", "#d62728",
                             s.delivery_us_by_room.at(rooms.worst_room)});
    plot.target_ms = target_ms;
    plot.target_label = "target: p99 send->delivery < " + Num(target_ms) + " ms";
  }
  const std::string stack = NoteOr(notes, "ingress", NoteOr(notes, "peer", ""));
  plot.title.push_back("server " + NoteOr(notes, "server", "?") + ", commit " + NoteOr(notes, "commit", "?") + ", " +
                       NoteOr(notes, "build", "?") + " build" + (stack.empty() ? "" : "; " + stack));
  plot.title.push_back("load: " + load_line);
  plot.title.push_back("machine: " + machine_line + "; load avg " + NoteOr(notes, "load avg", "?"));
  return WriteFile(dir / "report.svg", RenderSvg(plot));
}

}  // namespace chatpipe::bench
