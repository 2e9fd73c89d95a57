#include "common/metrics.h"

namespace chatpipe {

Metrics& Metrics::Global() {
  static Metrics* metrics = new Metrics();  // never destroyed: threads may update it during exit
  return *metrics;
}

Metric& Metrics::Get(const std::string& name, const std::string& help, const char* type) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& e : entries_)
    if (e.name == name) return e.metric;
  entries_.emplace_back();
  Entry& e = entries_.back();
  e.name = name;
  e.help = help;
  e.type = type;
  return e.metric;
}

std::string Metrics::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& e : entries_) {
    out += "# HELP " + e.name + " " + e.help + "\n# TYPE " + e.name + " " + e.type + "\n";
    out += e.name + " " + std::to_string(e.metric.value()) + "\n";
  }
  return out;
}

}  // namespace chatpipe
