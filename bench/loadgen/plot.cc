#include "bench/loadgen/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace chatpipe::bench {
namespace {

constexpr double kTicks[] = {50, 90, 99, 99.9, 99.99};
constexpr double kMaxX = 4;       // 99.99%
constexpr double kGridStep = 0.02;  // decades of 1/(1-p) between curve points

double XOf(double percent) { return std::log10(100.0 / (100.0 - percent)); }

std::string Fmt(const char* format, double v) {
  char buf[64];
  snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string MsText(double ms) { return Fmt(ms < 10 ? "%.2f ms" : "%.0f ms", ms); }

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// A round step (1, 2 or 5 times a power of ten) giving about five intervals up to `v`.
double NiceStep(double v) {
  const double raw = v / 5;
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

// The SVG header, white ground and title lines (the first large).
void Head(std::ostringstream& o, double width, double height, const std::vector<std::string>& title) {
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height << "\" viewBox=\"0 0 "
    << width << " " << height << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  for (size_t i = 0; i < title.size(); ++i)
    o << "<text x=\"16\" y=\"" << (i == 0 ? 26 : 30 + 17 * i) << "\""
      << (i == 0 ? " font-size=\"16\" font-weight=\"bold\"" : " fill=\"#444\"") << ">" << Escape(title[i])
      << "</text>\n";
}

// A y axis from 0 for values up to max_v: its top and a round step (top 1, step 0.2 when nothing).
std::pair<double, double> YScale(double max_v) {
  if (max_v <= 0) return {1, 0.2};
  const double step = NiceStep(max_v);
  return {std::ceil(max_v / step - 1e-9) * step, step};
}

// Horizontal grid lines with their labels, every `step` from 0 to y_max; py maps a value to y.
template <typename Py>
void YGrid(std::ostringstream& o, double left, double right, double y_max, double step, Py py) {
  const char* tick_format = step >= 1 ? "%.0f" : step >= 0.1 ? "%.1f" : "%.2f";
  for (double v = 0; v <= y_max + step / 2; v += step) {
    const std::string y = Fmt("%.1f", py(v));
    o << "<line x1=\"" << left << "\" y1=\"" << y << "\" x2=\"" << right << "\" y2=\"" << y
      << "\" stroke=\"#ddd\"/>\n<text x=\"" << left - 6 << "\" y=\"" << y << "\" dy=\"4\" text-anchor=\"end\">"
      << Fmt(tick_format, v) << "</text>\n";
  }
}

// A legend box with its top left at (x, y): a colored line and a text per (color, text) entry, on a
// white ground in case curves run under it.
void Legend(std::ostringstream& o, double x, double y, const std::vector<std::pair<std::string, std::string>>& entries) {
  if (entries.empty()) return;
  size_t longest = 0;
  for (const auto& entry : entries) longest = std::max(longest, entry.second.size());
  o << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << 44 + 6.5 * longest << "\" height=\""
    << 18 * entries.size() + 8 << "\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n";
  double ly = y + 18;
  for (const auto& [color, text] : entries) {
    o << "<line x1=\"" << x + 6 << "\" y1=\"" << ly - 4 << "\" x2=\"" << x + 30 << "\" y2=\"" << ly - 4
      << "\" stroke=\"" << Escape(color) << "\" stroke-width=\"2\"/>\n<text x=\"" << x + 36 << "\" y=\"" << ly
      << "\">" << Escape(text) << "</text>\n";
    ly += 18;
  }
}

}  // namespace

const char* SeriesColor(size_t i) {
  static constexpr const char* kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                            "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return kColors[i % std::size(kColors)];
}

std::vector<CurvePoint> PercentileCurve(const Histogram& h) {
  std::vector<CurvePoint> points;
  if (h.count() == 0) return points;
  // Past 1 - 1/count every percentile is the maximum: the curve stops there rather than draw a
  // flat line the sample cannot support.
  const double x_end = std::min(kMaxX, std::log10(static_cast<double>(h.count())));
  auto add = [&](double percent, double x) { points.push_back({percent, x, h.ValueAt(percent) / 1000.0}); };
  for (int i = 0; i * kGridStep < x_end - 1e-9; ++i) {
    const double x = i * kGridStep;
    const bool on_tick = std::any_of(std::begin(kTicks), std::end(kTicks),
                                     [&](double t) { return std::abs(XOf(t) - x) < 1e-6; });
    if (!on_tick) add(100 - 100 * std::pow(10, -x), x);
  }
  for (double t : kTicks)
    if (XOf(t) <= x_end + 1e-9) add(t, XOf(t));
  std::sort(points.begin(), points.end(), [](const CurvePoint& a, const CurvePoint& b) { return a.x < b.x; });
  if (x_end < kMaxX) points.push_back({100 - 100 / static_cast<double>(h.count()), x_end, h.max() / 1000.0});
  return points;
}

std::string RenderSvg(const LatencyPlot& plot) {
  const double width = 960, height = 600;
  const double title_h = 30 + 17.0 * std::max<size_t>(plot.title.size(), 1);
  const double left = 80, right = width - 30, top = title_h + 10, bottom = height - 60;

  std::vector<std::vector<CurvePoint>> curves;
  double max_ms = plot.target_ms * 1.1;
  for (const PlotSeries& s : plot.series) {
    curves.push_back(PercentileCurve(s.histogram));
    for (const CurvePoint& p : curves.back()) max_ms = std::max(max_ms, p.ms);
  }
  const auto [y_max, step] = YScale(max_ms);
  auto px = [&](double x) { return left + x / kMaxX * (right - left); };
  auto py = [&](double ms) { return bottom - ms / y_max * (bottom - top); };

  std::ostringstream o;
  Head(o, width, height, plot.title);

  // Grid, axes and their labels.
  YGrid(o, left, right, y_max, step, py);
  const std::pair<double, const char*> x_ticks[] = {{0, "0%"}, {XOf(50), "50%"}, {XOf(90), "90%"},
                                                    {XOf(99), "99%"}, {XOf(99.9), "99.9%"}, {XOf(99.99), "99.99%"}};
  for (const auto& [x, label] : x_ticks) {
    const std::string xs = Fmt("%.1f", px(x));
    o << "<line x1=\"" << xs << "\" y1=\"" << top << "\" x2=\"" << xs << "\" y2=\"" << bottom
      << "\" stroke=\"#ddd\"/>\n<text x=\"" << xs << "\" y=\"" << bottom + 18 << "\" text-anchor=\"middle\">" << label
      << "</text>\n";
  }
  o << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << right - left << "\" height=\"" << bottom - top
    << "\" fill=\"none\" stroke=\"#444\"/>\n"
    << "<text x=\"" << (left + right) / 2 << "\" y=\"" << height - 16
    << "\" text-anchor=\"middle\">percentile (log scale of 1/(1-p))</text>\n"
    << "<text transform=\"translate(22," << (top + bottom) / 2
    << ") rotate(-90)\" text-anchor=\"middle\">latency (ms)</text>\n";

  if (plot.target_ms > 0) {
    const std::string y = Fmt("%.1f", py(plot.target_ms));
    o << "<line x1=\"" << left << "\" y1=\"" << y << "\" x2=\"" << right << "\" y2=\"" << y
      << "\" stroke=\"#d62728\" stroke-dasharray=\"6 4\"/>\n<text x=\"" << right - 4 << "\" y=\"" << y
      << "\" dy=\"-4\" text-anchor=\"end\" fill=\"#d62728\">" << Escape(plot.target_label) << "</text>\n";
  }

  // Curves, with a dot at each tick percentile.
  for (size_t i = 0; i < plot.series.size(); ++i) {
    const PlotSeries& s = plot.series[i];
    if (curves[i].empty()) continue;
    o << "<polyline fill=\"none\" stroke=\"" << Escape(s.color) << "\" stroke-width=\"2\" points=\"";
    for (const CurvePoint& p : curves[i]) o << Fmt("%.1f", px(p.x)) << "," << Fmt("%.1f", py(p.ms)) << " ";
    o << "\"/>\n";
    for (const CurvePoint& p : curves[i])
      if (std::any_of(std::begin(kTicks), std::end(kTicks), [&](double t) { return t == p.percent; }))
        o << "<circle cx=\"" << Fmt("%.1f", px(p.x)) << "\" cy=\"" << Fmt("%.1f", py(p.ms)) << "\" r=\"3\" fill=\""
          << Escape(s.color) << "\"/>\n";
  }

  // Legend, top left, where percentile curves leave room.
  std::vector<std::pair<std::string, std::string>> legend;
  for (const PlotSeries& s : plot.series) {
    const Histogram& h = s.histogram;
    std::string text = s.label + ": ";
    if (h.count())
      text += "p50 " + MsText(h.ValueAt(50) / 1000.0) + ", p99 " + MsText(h.ValueAt(99) / 1000.0) + ", p99.9 " +
              MsText(h.ValueAt(99.9) / 1000.0) + ", max " + MsText(h.max() / 1000.0) + " (" +
              std::to_string(h.count()) + " samples)";
    else
      text += "no samples";
    legend.emplace_back(s.color, std::move(text));
  }
  Legend(o, left + 6, top + 6, legend);
  o << "</svg>\n";
  return o.str();
}

std::string RenderTimeSvg(const TimePlot& plot) {
  const double width = 960, height = 640;
  const double title_h = 30 + 17.0 * std::max<size_t>(plot.title.size(), 1);
  // The legend sits between the title and the plot area: lines over time fill the area.
  const double legend_y = title_h, left = 80, right = width - 30, bottom = height - 60;
  const double top = legend_y + (plot.series.empty() ? 0 : 18.0 * plot.series.size() + 18);
  double x_min = 0, x_max = 0, max_v = 0;
  for (const TimeSeries& s : plot.series)
    for (const auto& [t, v] : s.points) {
      x_min = std::min(x_min, t);
      x_max = std::max(x_max, t);
      max_v = std::max(max_v, v);
    }
  for (const auto& mark : plot.marks) x_max = std::max(x_max, mark.first);
  if (x_max <= x_min) x_max = x_min + 1;
  const auto [y_max, step] = YScale(max_v * 1.05);
  auto px = [&](double t) { return left + (t - x_min) / (x_max - x_min) * (right - left); };
  auto py = [&](double v) { return bottom - v / y_max * (bottom - top); };

  std::ostringstream o;
  Head(o, width, height, plot.title);
  YGrid(o, left, right, y_max, step, py);
  const double x_step = NiceStep(x_max - x_min);
  for (double t = std::ceil(x_min / x_step) * x_step; t <= x_max + 1e-9; t += x_step) {
    const std::string xs = Fmt("%.1f", px(t));
    o << "<line x1=\"" << xs << "\" y1=\"" << top << "\" x2=\"" << xs << "\" y2=\"" << bottom
      << "\" stroke=\"#ddd\"/>\n<text x=\"" << xs << "\" y=\"" << bottom + 18 << "\" text-anchor=\"middle\">"
      << Fmt("%.0f", t + 0.0) << "</text>\n";
  }
  o << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << right - left << "\" height=\"" << bottom - top
    << "\" fill=\"none\" stroke=\"#444\"/>\n"
    << "<text x=\"" << (left + right) / 2 << "\" y=\"" << height - 16
    << "\" text-anchor=\"middle\">" << Escape(plot.x_label) << "</text>\n"
    << "<text transform=\"translate(22," << (top + bottom) / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
    << Escape(plot.y_label) << "</text>\n";
  for (const auto& [t, label] : plot.marks) {
    const std::string xs = Fmt("%.1f", px(t));
    o << "<line x1=\"" << xs << "\" y1=\"" << top << "\" x2=\"" << xs << "\" y2=\"" << bottom
      << "\" stroke=\"#888\" stroke-dasharray=\"6 4\"/>\n<text x=\"" << xs << "\" y=\"" << bottom - 6
      << "\" dx=\"-4\" text-anchor=\"end\" fill=\"#666\">" << Escape(label) << "</text>\n";
  }
  std::vector<std::pair<std::string, std::string>> legend;
  for (const TimeSeries& s : plot.series) {
    legend.emplace_back(s.color, s.label);
    if (s.points.empty()) continue;
    o << "<polyline fill=\"none\" stroke=\"" << Escape(s.color) << "\" stroke-width=\"1.5\" points=\"";
    for (const auto& [t, v] : s.points) o << Fmt("%.1f", px(t)) << "," << Fmt("%.1f", py(v)) << " ";
    o << "\"/>\n";
  }
  Legend(o, left, legend_y, legend);
  o << "</svg>\n";
  return o.str();
}

}  // namespace chatpipe::bench
