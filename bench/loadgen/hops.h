// The `hops` subcommand of chatpipe-loadgen: where a run's milliseconds went, hop by hop.
//
// bench/run scrapes every chatpipe process's /metrics when the sending starts and once the
// deliveries are in (START and END files, one pair per process, in one folder). The difference of
// their chatpipe_latency_seconds histograms is the run's own traffic; the histograms of every process
// are summed per hop (two ingress processes make one "fanout" row) and each hop's percentiles are
// read off its buckets, interpolated within the bucket that holds the rank, so they are as fine as the
// buckets (docs/operations.md lists them: about a quarter of the value). The table puts the hops in
// the order a message takes them, then the end-to-end figures the generators measured (report.json),
// and is written as hops.md and hops.json beside it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace chatpipe::bench {

// One hop's histogram: cumulative counts at each bound in seconds (the last bound +Inf).
struct HopHistogram {
  std::vector<std::pair<double, int64_t>> buckets;
  double sum_s = 0;
  int64_t count() const { return buckets.empty() ? 0 : buckets.back().second; }
  // The q-quantile (0 < q <= 1) in seconds; +Inf when it falls past the last finite bound, -1 if empty.
  double Quantile(double q) const;
};

// Key: the series' labels as rendered, e.g. hop="kafka",worker="persist".
using Hops = std::map<std::string, HopHistogram>;

// The chatpipe_latency_seconds series of one /metrics text.
Hops ParseHops(const std::string& metrics_text);
// Adds sign x `b` to `a`, series by series and bucket by bucket (the same binary renders the same
// bounds): sign -1 takes a start scrape from an end one.
void AddHops(Hops* a, const Hops& b, int sign = 1);

struct HopsOptions {
  std::string dir;     // PROCESS.start.txt and PROCESS.end.txt scrapes
  std::string report;  // report.json of the same run (end-to-end figures); may be empty
  std::string out;     // folder for hops.md and hops.json
};

Status PrintHops(const HopsOptions& options);

}  // namespace chatpipe::bench
