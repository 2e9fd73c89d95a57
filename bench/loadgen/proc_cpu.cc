#include "bench/loadgen/proc_cpu.h"

#include <algorithm>

#include <cctype>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace chatpipe::bench {

std::optional<uint64_t> ProcStatTicks(std::string_view stat_line) {
  const size_t paren = stat_line.rfind(')');
  if (paren == std::string_view::npos) return std::nullopt;
  // After "pid (comm) ": state is field 3, utime 14 and stime 15, so the 12th and 13th from here.
  std::istringstream in{std::string(stat_line.substr(paren + 1))};
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 1; i <= 13; ++i) {
    if (!(in >> field)) return std::nullopt;
    if (i < 12) continue;
    try {
      (i == 12 ? utime : stime) = std::stoull(field);
    } catch (...) {
      return std::nullopt;
    }
  }
  return utime + stime;
}

std::optional<int> ProcStatParent(std::string_view stat_line) {
  const size_t paren = stat_line.rfind(')');
  if (paren == std::string_view::npos) return std::nullopt;
  std::istringstream in{std::string(stat_line.substr(paren + 1))};
  std::string state;
  int ppid = 0;
  if (!(in >> state >> ppid)) return std::nullopt;
  return ppid;
}

std::optional<uint64_t> MachineBusyTicks(std::string_view proc_stat) {
  if (proc_stat.substr(0, 4) != "cpu ") return std::nullopt;
  std::istringstream in{std::string(proc_stat.substr(4, proc_stat.find('\n') - 4))};
  // user nice system idle iowait irq softirq steal
  uint64_t v[8] = {};
  for (uint64_t& x : v)
    if (!(in >> x)) return std::nullopt;
  return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

std::optional<CpuGroup> ParseCpuGroup(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == 0 || eq == std::string_view::npos) return std::nullopt;
  CpuGroup g{std::string(text.substr(0, eq)), {}, {}};
  std::istringstream in{std::string(text.substr(eq + 1))};
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    try {
      size_t used = 0;
      const size_t plus = item[0] == '+' ? 1 : 0;
      const int pid = std::stoi(item.substr(plus), &used);
      if (used + plus != item.size() || pid <= 0 || !std::isdigit(static_cast<unsigned char>(item[plus]))) return std::nullopt;
      (item[0] == '+' ? g.parents : g.pids).push_back(pid);
    } catch (...) {
      return std::nullopt;
    }
  }
  return g;
}

CpuSample CpuSample::Take(const std::vector<CpuGroup>& groups) {
  CpuSample s;
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  s.ns = int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
  std::string line;
  {
    std::ifstream in("/proc/stat");
    std::getline(in, line);
    s.machine = MachineBusyTicks(line).value_or(0);
  }
  // Every process's parent, once, when a group wants children.
  std::map<int, std::vector<int>> children;
  if (std::any_of(groups.begin(), groups.end(), [](const CpuGroup& g) { return !g.parents.empty(); })) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
      const std::string name = entry.path().filename().string();
      if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
      std::ifstream in(entry.path() / "stat");
      if (std::getline(in, line))
        if (auto ppid = ProcStatParent(line)) children[*ppid].push_back(std::stoi(name));
    }
  }
  for (const CpuGroup& g : groups) {
    std::vector<int>& members = s.members[g.name];
    members = g.pids;
    for (int parent : g.parents) {
      members.push_back(parent);
      for (int child : children[parent]) members.push_back(child);
    }
    for (int pid : members) {
      std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
      if (std::getline(in, line))
        if (auto t = ProcStatTicks(line)) s.pid_ticks[pid] = *t;
    }
  }
  return s;
}

std::map<std::string, double> CpuPercent(const std::vector<CpuGroup>& groups, const CpuSample& start,
                                         const CpuSample& end, long ticks_per_second) {
  std::map<std::string, double> out;
  const double seconds = static_cast<double>(end.ns - start.ns) / 1e9;
  if (seconds <= 0 || ticks_per_second <= 0) return out;
  auto percent = [&](uint64_t ticks) { return static_cast<double>(ticks) / ticks_per_second / seconds * 100; };
  uint64_t ours = 0;
  for (const CpuGroup& g : groups) {
    uint64_t ticks = 0;
    auto at_end = end.members.find(g.name);
    const std::vector<int>& pids = at_end != end.members.end() ? at_end->second : g.pids;
    for (int pid : pids) {
      // A pid there at the end only (a child born in the window) counts all its time.
      auto a = start.pid_ticks.find(pid), b = end.pid_ticks.find(pid);
      if (b == end.pid_ticks.end()) continue;
      const uint64_t from = a != start.pid_ticks.end() ? a->second : 0;
      if (b->second >= from) ticks += b->second - from;
    }
    ours += ticks;
    out[g.name] += percent(ticks);
  }
  const uint64_t machine = end.machine > start.machine ? end.machine - start.machine : 0;
  out["others"] = percent(machine > ours ? machine - ours : 0);
  return out;
}

}  // namespace chatpipe::bench
