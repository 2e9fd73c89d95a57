// What a benchmark prints about the machine it ran on, so that its figures carry their conditions:
// the CPU model and the load average (other people's work on a shared machine). Linux /proc only.
#pragma once

#include <fstream>
#include <string>

namespace chatpipe::bench {

inline std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

// The 1, 5 and 15 minute load averages, "1.20 0.95 0.80".
inline std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one.empty() ? "unknown" : one + " " + five + " " + fifteen;
}

}  // namespace chatpipe::bench
