#include "bench/loadgen/hops.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <sstream>

#include "bench/loadgen/files.h"

namespace chatpipe::bench {
namespace {

constexpr std::string_view kFamily = "chatpipe_latency_seconds";

// The hops of a message's path, in the order it takes them; any other series is listed after them.
struct HopRow {
  const char* key;
  const char* what;
};
constexpr HopRow kPath[] = {
    {R"(hop="produce")", "ingress: accepted -> Kafka acked (the sender's ack waits for it)"},
    {R"(hop="kafka",worker="persist")", "Kafka: produced -> polled by the persister"},
    {R"(hop="store",worker="persist")", "persister: the batch's PostgreSQL statement"},
    {R"(hop="publish",worker="persist")", "persister: Redis history push and PUBLISH"},
    {R"(hop="fanout")", "ingress: frame from Redis -> written to the sockets"},
    {R"(hop="server")", "the whole server: stamped -> written to the sockets"},
    // The pixel board's worker (bench/board): history to PostgreSQL, then the Redis script and PUBLISH.
    {R"(hop="kafka",worker="board")", "Kafka: produced -> polled by the board worker"},
    {R"(hop="apply",worker="board")", "board worker: the batch's PostgreSQL history and Redis script, counted per placement"},
};

// "{a="1",le="0.5"}" -> labels without le, and the le value.
void SplitLe(std::string_view labels, std::string* rest, std::string* le) {
  rest->clear();
  le->clear();
  size_t at = labels.find("le=\"");
  if (at == std::string_view::npos) {
    *rest = std::string(labels);
    return;
  }
  size_t end = labels.find('"', at + 4);
  *le = std::string(labels.substr(at + 4, end - at - 4));
  std::string before(labels.substr(0, at)), after(labels.substr(end + 1));
  if (!before.empty() && before.back() == ',') before.pop_back();
  if (!after.empty() && after.front() == ',') after.erase(0, 1);
  *rest = before + (before.empty() || after.empty() ? "" : ",") + after;
}

std::string Ms(double s) {
  if (s < 0) return "-";
  if (std::isinf(s)) return "> 10 s";
  char buf[32];
  snprintf(buf, sizeof buf, s * 1000 < 10 ? "%.2f" : "%.0f", s * 1000);
  return buf;
}

}  // namespace

double HopHistogram::Quantile(double q) const {
  const int64_t total = count();
  if (total == 0) return -1;
  const double rank = q * static_cast<double>(total);
  double lower = 0;
  int64_t below = 0;
  for (const auto& [bound, cumulative] : buckets) {
    if (static_cast<double>(cumulative) >= rank && cumulative > below) {
      if (std::isinf(bound)) return bound;
      return lower + (bound - lower) * (rank - static_cast<double>(below)) / static_cast<double>(cumulative - below);
    }
    lower = bound;
    below = cumulative;
  }
  return std::numeric_limits<double>::infinity();
}

Hops ParseHops(const std::string& text) {
  Hops hops;
  std::istringstream in(text);
  std::string line, labels, le;
  while (std::getline(in, line)) {
    if (line.compare(0, kFamily.size(), kFamily) != 0) continue;
    std::string_view rest = std::string_view(line).substr(kFamily.size());
    const bool bucket = rest.starts_with("_bucket{"), sum = rest.starts_with("_sum{");
    if (!bucket && !sum) continue;  // _count repeats the +Inf bucket
    size_t open = rest.find('{'), close = rest.rfind('}');
    if (close == std::string_view::npos || close < open) continue;
    SplitLe(rest.substr(open + 1, close - open - 1), &labels, &le);
    const double value = std::strtod(std::string(rest.substr(close + 1)).c_str(), nullptr);
    HopHistogram& h = hops[labels];
    if (sum) {
      h.sum_s = value;
    } else {
      const double bound = le == "+Inf" ? std::numeric_limits<double>::infinity() : std::strtod(le.c_str(), nullptr);
      h.buckets.emplace_back(bound, static_cast<int64_t>(value));
    }
  }
  return hops;
}

void AddHops(Hops* a, const Hops& b, int sign) {
  for (const auto& [key, h] : b) {
    HopHistogram& into = (*a)[key];
    if (into.buckets.empty())
      for (const auto& [bound, n] : h.buckets) into.buckets.emplace_back(bound, 0);
    for (size_t i = 0; i < h.buckets.size() && i < into.buckets.size(); ++i) into.buckets[i].second += sign * h.buckets[i].second;
    into.sum_s += sign * h.sum_s;
  }
}

Status PrintHops(const HopsOptions& o) {
  namespace fs = std::filesystem;
  Hops total;
  int processes = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(o.dir, ec)) {
    const std::string name = entry.path().filename().string();
    const std::string suffix = ".end.txt";
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    auto end = ReadFile(entry.path());
    auto start = ReadFile(entry.path().parent_path() / (name.substr(0, name.size() - suffix.size()) + ".start.txt"));
    if (!end.ok() || !start.ok()) continue;  // a process that was not up at both scrapes
    AddHops(&total, ParseHops(*end));
    AddHops(&total, ParseHops(*start), -1);
    ++processes;
  }
  if (ec) return Status::InvalidArgument("bad_dir", "cannot read " + o.dir + ": " + ec.message());

  std::vector<std::pair<std::string, std::string>> rows;  // key, what
  for (const HopRow& r : kPath) rows.emplace_back(r.key, r.what);
  for (const auto& [key, h] : total) {
    bool listed = false;
    for (const HopRow& r : kPath) listed = listed || key == r.key;
    if (!listed) rows.emplace_back(key, "off the path (the tag and mention workers, the persister's whole apply)");
  }
  std::string md = "| hop | what | events | p50 ms | p90 ms | p99 ms | mean ms |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |\n";
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("processes");
  w.Int(processes);
  w.Key("hops");
  w.StartArray();
  for (const auto& [key, what] : rows) {
    auto it = total.find(key);
    if (it == total.end() || it->second.count() == 0) continue;
    const HopHistogram& h = it->second;
    const double mean = h.sum_s / static_cast<double>(h.count());
    md += "| " + key + " | " + what + " | " + std::to_string(h.count()) + " | " + Ms(h.Quantile(0.5)) + " | " +
          Ms(h.Quantile(0.9)) + " | " + Ms(h.Quantile(0.99)) + " | " + Ms(mean) + " |\n";
    w.StartObject();
    w.Key("hop");
    w.String(key.c_str());
    w.Key("count");
    w.Int64(h.count());
    for (auto [name, q] : {std::pair{"p50_s", 0.5}, {"p90_s", 0.9}, {"p99_s", 0.99}}) {
      w.Key(name);
      const double v = h.Quantile(q);
      if (std::isinf(v)) w.Null(); else w.Double(v);
    }
    w.Key("mean_s");
    w.Double(mean);
    w.EndObject();
  }
  w.EndArray();
  if (!o.report.empty()) {
    auto report = ReadFile(o.report);
    rapidjson::Document doc;
    if (report.ok() && !doc.Parse(report->c_str()).HasParseError() && doc.HasMember("figures")) {
      const auto& f = doc["figures"];
      for (auto [key, what] : {std::pair{"ack_us", "end to end: sent -> acked (the generators)"},
                               {"delivery_us", "end to end: sent -> delivered (the generators)"},
                               {"sender_delivery_us", "end to end, at the senders' own connections"}}) {
        if (!f.HasMember(key) || !f[key].IsObject() || !f[key].HasMember("p50")) continue;
        const auto& h = f[key];
        auto us = [&](const char* k) { return h.HasMember(k) ? Ms(h[k].GetDouble() / 1e6) : std::string("-"); };
        md += std::string("| ") + key + " | " + what + " | " + std::to_string(h["count"].GetInt64()) + " | " + us("p50") +
              " | - | " + us("p99") + " | " + us("mean") + " |\n";
      }
    }
  }
  w.EndObject();
  printf("\nWhere the time went, hop by hop (%d processes' /metrics, over the sending and the drain):\n\n%s", processes,
         md.c_str());
  if (o.out.empty()) return Status::Ok();
  if (Status s = WriteFile(fs::path(o.out) / "hops.md", md); !s.ok()) return s;
  return WriteFile(fs::path(o.out) / "hops.json", std::string(buf.GetString(), buf.GetSize()) + "\n");
}

}  // namespace chatpipe::bench
