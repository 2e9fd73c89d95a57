// CPU time of processes and of the whole machine from /proc, so a benchmark can say where the time
// went during its window: each named group of processes (ingress, the board worker, Redis...) in %
// of one core, and "others", what the rest of the machine used meanwhile (other people's work).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatpipe::bench {

// utime + stime (clock ticks) from a /proc/PID/stat line; the command name may hold spaces and ')'.
std::optional<uint64_t> ProcStatTicks(std::string_view stat_line);
// The parent pid (field 4) from a /proc/PID/stat line.
std::optional<int> ProcStatParent(std::string_view stat_line);
// Busy ticks of all cpus (user nice system irq softirq steal) from /proc/stat's "cpu " line.
std::optional<uint64_t> MachineBusyTicks(std::string_view proc_stat);

struct CpuGroup {
  std::string name;
  std::vector<int> pids;
  std::vector<int> parents;  // these and their children at each sample (PostgreSQL and its backends)
};
// Parses "name=PID,+PID,..." (as bench/board passes it): "+PID" is PID and its children, found at
// each sample, so a child born during the window counts all its time; nothing on a malformed one.
std::optional<CpuGroup> ParseCpuGroup(std::string_view text);

// Take() at the window's start and again at its end; Percent() turns two samples into the groups' and
// the others' share of one core.
struct CpuSample {
  int64_t ns = 0;  // CLOCK_MONOTONIC
  uint64_t machine = 0;
  std::map<int, uint64_t> pid_ticks;  // a pid that ended is missing: its ticks count under none
  std::map<std::string, std::vector<int>> members;  // each group's pids at this sample
  static CpuSample Take(const std::vector<CpuGroup>& groups);
};
std::map<std::string, double> CpuPercent(const std::vector<CpuGroup>& groups, const CpuSample& start,
                                         const CpuSample& end, long ticks_per_second);

}  // namespace chatpipe::bench
