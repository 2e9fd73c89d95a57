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

// Seconds from µs without a float's noise: 2500 -> "0.0025".
std::string Seconds(int64_t us) {
  std::string s = std::to_string(us / 1000000);
  int64_t frac = us % 1000000;
  if (!frac) return s;
  std::string digits = std::to_string(frac);
  digits.insert(0, 6 - digits.size(), '0');
  while (digits.back() == '0') digits.pop_back();
  return s + "." + digits;
}

// The labels with le="bound" added last.
std::string WithLe(const std::string& labels, const std::string& bound) {
  const std::string le = "le=\"" + bound + "\"}";
  return labels.empty() ? "{" + le : labels.substr(0, labels.size() - 1) + "," + le;
}

}  // namespace

void LatencyHistogram::Observe(int64_t us, int64_t count) {
  if (us < 0) us = 0;  // clocks of two processes may disagree by a hair
  size_t i = 0;
  while (i < kBoundsUs.size() && us > kBoundsUs[i]) ++i;
  buckets_[i].fetch_add(count, std::memory_order_relaxed);
  sum_us_.fetch_add(us * count, std::memory_order_relaxed);
}

std::string LatencyHistogram::Render(const std::string& name, const std::string& labels) const {
  std::string out;
  int64_t total = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    const std::string bound = i < kBoundsUs.size() ? Seconds(kBoundsUs[i]) : "+Inf";
    out += name + "_bucket" + WithLe(labels, bound) + " " + std::to_string(total) + "\n";
  }
  out += name + "_sum" + labels + " " + Seconds(sum_us_.load(std::memory_order_relaxed)) + "\n";
  out += name + "_count" + labels + " " + std::to_string(total) + "\n";
  return out;
}

Metrics& Metrics::Global() {
  static Metrics* metrics = new Metrics();  // never destroyed: threads may update it during exit
  return *metrics;
}

Metric& Metrics::Get(const std::string& name, const std::string& help, const char* type, const MetricLabels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  return Find(name, help, type, labels).metric;
}

LatencyHistogram& Metrics::GetHistogram(const std::string& name, const std::string& help, const MetricLabels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Series& s = Find(name, help, "histogram", labels);
  if (!s.histogram) s.histogram = std::make_unique<LatencyHistogram>();
  return *s.histogram;
}

void Metrics::Declare(const std::string& name, const std::string& help, const char* type) {
  std::lock_guard<std::mutex> lock(mu_);
  FindFamily(name, help, type);
}

Metrics::Family& Metrics::FindFamily(const std::string& name, const std::string& help, const char* type) {
  for (auto& f : families_)
    if (f.name == name) {
      if (f.help.empty()) f.help = help;
      return f;
    }
  return families_.emplace_back(Family{name, help, type, {}});
}

Metrics::Series& Metrics::Find(const std::string& name, const std::string& help, const char* type,
                               const MetricLabels& labels) {
  const std::string key = RenderLabels(labels);
  Family& family = FindFamily(name, help, type);
  for (auto& s : family.series)
    if (s.labels == key) return s;
  Series& s = family.series.emplace_back();
  s.labels = key;
  return s;
}

std::string Metrics::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& f : families_) {
    out += "# HELP " + f.name + " " + f.help + "\n# TYPE " + f.name + " " + f.type + "\n";
    for (const auto& s : f.series)
      out += s.histogram ? s.histogram->Render(f.name, s.labels)
                         : f.name + s.labels + " " + std::to_string(s.metric.value()) + "\n";
  }
  return out;
}

}  // namespace chatpipe
