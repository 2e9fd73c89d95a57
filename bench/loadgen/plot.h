// Plot: the latency plot of a scenario run, report.svg beside report.json. Percentile curves of
// merged Histograms on the HdrHistogram scale (x = log10(1/(1-p)), so 50%, 90%, 99%, 99.9%, 99.99%
// sit one step apart and the tail gets the room it deserves), milliseconds on a linear y axis, a few
// title lines above. Hand-written SVG: no plotting library for one chart. The caller (report.cc)
// owns what goes in: the series, the title lines and an optional target line.
#pragma once

#include <string>
#include <vector>

#include "bench/loadgen/histogram.h"

namespace chatpipe::bench {

struct CurvePoint {
  double percent;  // 0 .. 99.99
  double x;        // log10(100 / (100 - percent))
  double ms;       // the histogram's value at that percentile
};

// The percentile curve of `h` from 0% up to 99.99%, or up to the last percentile its count resolves
// (1 - 1/count), where the curve ends at max(). The tick percentiles (50, 90, 99, 99.9, 99.99) are
// points of their own, at exactly h.ValueAt(tick). Empty for an empty histogram.
std::vector<CurvePoint> PercentileCurve(const Histogram& h);

struct PlotSeries {
  std::string label;  // "send->delivery"
  std::string color;  // "#1f77b4"
  Histogram histogram;
};

struct LatencyPlot {
  std::vector<std::string> title;  // first line large, the others small (conditions)
  std::vector<PlotSeries> series;
  double target_ms = 0;            // a dashed horizontal line when > 0
  std::string target_label;
};

// A standalone SVG document.
std::string RenderSvg(const LatencyPlot& plot);

// A line chart over time (the soak scenario's memory and latency plots): seconds on x, any unit on a
// linear y axis from 0, optional dashed vertical marks (the end of the sending window).
struct TimeSeries {
  std::string label;  // "ingress.0 RSS"; the legend adds nothing to it
  std::string color;
  std::vector<std::pair<double, double>> points;  // (seconds, value), in time order
};

struct TimePlot {
  std::vector<std::string> title;  // as LatencyPlot's
  std::string y_label;             // "MiB"
  std::string x_label = "seconds since sending started";
  std::vector<TimeSeries> series;
  std::vector<std::pair<double, std::string>> marks;  // (seconds, label)
};

std::string RenderTimeSvg(const TimePlot& plot);

// The color of series i of a plot: ten distinct ones, then again.
const char* SeriesColor(size_t i);

}  // namespace chatpipe::bench
