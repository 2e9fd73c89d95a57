#include "bench/loadgen/plot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

namespace chatpipe::bench {
namespace {

Histogram LogNormal(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> latency(8.0, 1.2);  // microseconds: ~3 ms median, long tail
  Histogram h;
  for (int i = 0; i < n; ++i) h.Record(static_cast<uint64_t>(latency(rng)) + 1);
  return h;
}

const CurvePoint* At(const std::vector<CurvePoint>& curve, double percent) {
  for (const CurvePoint& p : curve)
    if (p.percent == percent) return &p;
  return nullptr;
}

// A small XML well-formedness check: tags nest and close, attributes are quoted, text and
// attribute values hold no raw '<' and only entity '&'s, and one root element.
std::string XmlProblem(const std::string& doc, std::vector<std::string>* elements) {
  std::vector<std::string> open;
  int roots = 0;
  auto bad_amp = [](const std::string& s) {
    for (size_t i = s.find('&'); i != std::string::npos; i = s.find('&', i + 1)) {
      const size_t semi = s.find(';', i);
      const std::string entity = semi == std::string::npos ? "" : s.substr(i, semi - i + 1);
      if (entity != "&amp;" && entity != "&lt;" && entity != "&gt;" && entity != "&quot;") return true;
    }
    return false;
  };
  size_t i = 0;
  while (i < doc.size()) {
    if (doc[i] != '<') {
      const size_t next = doc.find('<', i);
      const std::string text = doc.substr(i, next - i);
      if (bad_amp(text)) return "bad & in text: " + text;
      if (open.empty() && text.find_first_not_of(" \n") != std::string::npos) return "text outside the root";
      i = next == std::string::npos ? doc.size() : next;
      continue;
    }
    if (doc.compare(i, 2, "<?") == 0) {
      if (i != 0) return "declaration not at the start";
      i = doc.find("?>", i) + 2;
      continue;
    }
    const size_t end = doc.find('>', i);
    if (end == std::string::npos) return "unterminated tag";
    std::string tag = doc.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag.find('<') != std::string::npos) return "'<' inside a tag";
    if (tag[0] == '/') {
      if (open.empty() || open.back() != tag.substr(1)) return "</" + tag.substr(1) + "> closes nothing open";
      open.pop_back();
      continue;
    }
    const bool self_closing = tag.back() == '/';
    if (self_closing) tag.pop_back();
    std::istringstream in(tag);
    std::string name;
    in >> name;
    if (name.empty()) return "tag without a name";
    if (open.empty() && ++roots > 1) return "more than one root";
    elements->push_back(name);
    // Attributes: name="value" pairs separated by blanks.
    size_t a = name.size();
    while ((a = tag.find_first_not_of(' ', a)) != std::string::npos) {
      const size_t eq = tag.find('=', a);
      if (eq == std::string::npos || tag[eq + 1] != '"') return "unquoted attribute in <" + name + ">";
      const size_t close = tag.find('"', eq + 2);
      if (close == std::string::npos) return "unterminated attribute in <" + name + ">";
      if (bad_amp(tag.substr(eq + 2, close - eq - 2))) return "bad & in an attribute of <" + name + ">";
      a = close + 1;
    }
    if (!self_closing) open.push_back(name);
  }
  if (!open.empty()) return "<" + open.back() + "> never closed";
  if (roots != 1) return "no root element";
  return "";
}

TEST(PlotTest, CurveRisesAndHitsTheHistogramsPercentiles) {
  const Histogram h = LogNormal(50000, 3);
  const auto curve = PercentileCurve(h);
  ASSERT_GT(curve.size(), 100u);
  EXPECT_EQ(curve.front().percent, 0);
  EXPECT_DOUBLE_EQ(curve.front().ms, h.min() / 1000.0);
  for (size_t i = 1; i < curve.size(); ++i) {
    EXPECT_GT(curve[i].x, curve[i - 1].x) << i;
    EXPECT_GE(curve[i].ms, curve[i - 1].ms) << i;
  }
  for (double t : {50.0, 90.0, 99.0, 99.9, 99.99}) {
    const CurvePoint* p = At(curve, t);
    ASSERT_NE(p, nullptr) << "no point at " << t;
    EXPECT_DOUBLE_EQ(p->ms, h.ValueAt(t) / 1000.0) << t;
    EXPECT_NEAR(p->x, std::log10(100 / (100 - t)), 1e-12) << t;
  }
  // 50000 samples resolve 99.99%: the curve goes to the axis end there.
  EXPECT_NEAR(curve.back().x, 4, 1e-12);
}

TEST(PlotTest, SmallSampleEndsAtItsMaximumWithoutUnresolvedTicks) {
  const Histogram h = LogNormal(500, 5);  // resolves up to 99.8%
  const auto curve = PercentileCurve(h);
  ASSERT_FALSE(curve.empty());
  EXPECT_NE(At(curve, 99), nullptr);
  EXPECT_EQ(At(curve, 99.9), nullptr);
  EXPECT_NEAR(curve.back().x, std::log10(500.0), 1e-12);
  EXPECT_DOUBLE_EQ(curve.back().ms, h.max() / 1000.0);
  EXPECT_TRUE(PercentileCurve(Histogram()).empty());
}

TEST(PlotTest, SvgIsWellFormedAndDrawsEachCurveUpward) {
  LatencyPlot plot;
  plot.title = {"fanout: 1234 deliveries/s", "server chatpipe & co <1 room>, commit \"abc\""};
  plot.series = {{"send->delivery", "#1f77b4", LogNormal(20000, 1)}, {"send->ack", "#ff7f0e", LogNormal(300, 2)},
                 {"empty", "#2ca02c", Histogram()}};
  plot.target_ms = 20;
  plot.target_label = "target p99 < 20 ms";
  const std::string svg = RenderSvg(plot);
  std::vector<std::string> elements;
  EXPECT_EQ(XmlProblem(svg, &elements), "") << svg;
  ASSERT_FALSE(elements.empty());
  EXPECT_EQ(elements.front(), "svg");
  EXPECT_NE(svg.find("server chatpipe &amp; co &lt;1 room&gt;, commit &quot;abc&quot;"), std::string::npos);
  EXPECT_NE(svg.find("send-&gt;delivery: p50 "), std::string::npos);
  EXPECT_NE(svg.find("empty: no samples"), std::string::npos);

  // Two non-empty series, two polylines; in SVG coordinates y grows downward, so a rising curve's y
  // never increases while x does.
  size_t polylines = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos; at = svg.find("<polyline", at + 1)) {
    ++polylines;
    const size_t from = svg.find("points=\"", at) + 8;
    std::istringstream points(svg.substr(from, svg.find('"', from) - from));
    double x, y, last_x = -1, last_y = 1e9;
    char comma;
    int n = 0;
    while (points >> x >> comma >> y) {
      EXPECT_GE(x, last_x);
      EXPECT_LE(y, last_y);
      last_x = x;
      last_y = y;
      ++n;
    }
    EXPECT_GT(n, 10);
  }
  EXPECT_EQ(polylines, 2u);
}

TEST(PlotTest, TimePlotDrawsEverySeriesOverTimeWithItsMarks) {
  TimePlot plot;
  plot.title = {"soak: memory <over> time", "conditions & load"};
  plot.y_label = "MiB";
  plot.series = {{"ingress.0 rss_kb", SeriesColor(0), {{-10, 20}, {0, 21}, {30, 22}, {60, 22.5}}},
                 {"redis used_memory_kb", SeriesColor(1), {{0, 3}, {60, 3.1}}},
                 {"no samples", SeriesColor(2), {}}};
  plot.marks = {{60, "sending ends"}};
  const std::string svg = RenderTimeSvg(plot);
  std::vector<std::string> elements;
  EXPECT_EQ(XmlProblem(svg, &elements), "") << svg;
  EXPECT_NE(svg.find("soak: memory &lt;over&gt; time"), std::string::npos);
  EXPECT_NE(svg.find("sending ends"), std::string::npos);
  EXPECT_NE(svg.find("seconds since sending started"), std::string::npos);
  EXPECT_EQ(svg.find(">-0<"), std::string::npos);  // the tick at 0 is "0"
  size_t polylines = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos; at = svg.find("<polyline", at + 1)) {
    ++polylines;
    const size_t from = svg.find("points=\"", at) + 8;
    std::istringstream points(svg.substr(from, svg.find('"', from) - from));
    double x, y, last_x = -1;
    char comma;
    while (points >> x >> comma >> y) {
      EXPECT_GT(x, last_x);  // time runs left to right
      last_x = x;
    }
  }
  EXPECT_EQ(polylines, 2u);  // the empty series is in the legend only
  EXPECT_NE(svg.find("no samples"), std::string::npos);
  EXPECT_STRNE(SeriesColor(0), SeriesColor(1));
  EXPECT_STREQ(SeriesColor(0), SeriesColor(10));
}

TEST(PlotTest, ProblemCheckerCatchesBrokenXml) {
  std::vector<std::string> e;
  EXPECT_NE(XmlProblem("<svg><g></svg>", &e), "");
  EXPECT_NE(XmlProblem("<svg><text>a & b</text></svg>", &e), "");
  EXPECT_NE(XmlProblem("<svg width=3/>", &e), "");
  EXPECT_EQ(XmlProblem("<?xml version=\"1.0\"?>\n<svg a=\"1\"><g/></svg>\n", &e), "");
}

}  // namespace
}  // namespace chatpipe::bench
