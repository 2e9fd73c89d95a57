#include "common/metrics.h"

namespace chatpipe {
namespace {

// {name="value",...} with the value escaped as the text format asks (backslash, quote, newline).
std::string RenderLabels(const MetricLabels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (const auto& [name, value] : labels) {
    if (out.size() > 1) out += ',';
    out += name + "=\"";
    for (char c : value) {
      if (c == '\\' || c == '"') out += '\\';
      out += c == '\n' ? std::string("\\n") : std::string(1, c);
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace

Metrics& Metrics::Global() {
  static Metrics* metrics = new Metrics();  // never destroyed: threads may update it during exit
  return *metrics;
}

Metric& Metrics::Get(const std::string& name, const std::string& help, const char* type, const MetricLabels& labels) {
  const std::string key = RenderLabels(labels);
  std::lock_guard<std::mutex> lock(mu_);
  Family* family = nullptr;
  for (auto& f : families_)
    if (f.name == name) family = &f;
  if (!family) family = &families_.emplace_back(Family{name, help, type, {}});
  if (family->help.empty()) family->help = help;
  for (auto& s : family->series)
    if (s.labels == key) return s.metric;
  Series& s = family->series.emplace_back();
  s.labels = key;
  return s.metric;
}

std::string Metrics::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& f : families_) {
    out += "# HELP " + f.name + " " + f.help + "\n# TYPE " + f.name + " " + f.type + "\n";
    for (const auto& s : f.series) out += f.name + s.labels + " " + std::to_string(s.metric.value()) + "\n";
  }
  return out;
}

}  // namespace chatpipe
