// The `report` subcommand of chatpipe-loadgen: merges the JSON results of a scenario's generator
// processes (exactly: histograms bucket by bucket), adds what the scenario script measured on the
// server side, prints the figures beside the conditions they came from and the targets, and writes
// the whole as one JSON file, with the printed figures as a Markdown table (report.md) and a latency
// percentile plot (report.svg, bench/loadgen/plot.h) in the same folder. It never fails a run for
// missing a target: figures are information.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace chatpipe::bench {

struct ReportOptions {
  std::string scenario;               // capacity, fanout, ingest, soak: chooses the targets printed
  std::vector<std::string> files;     // generator results
  std::vector<std::string> notes;     // "key=value" conditions (commit, ingress processes, ...)
  // "key=number" server-side figures: ingress_rss_before_kb, ingress_rss_after_kb, slab_before_kb,
  // slab_after_kb, persisted, persist_wait_s, persist_batches, persist_messages.
  std::vector<std::string> server;
  std::vector<std::string> cpu;       // "process=percent of one core" during the send window
  std::string out;                    // merged JSON; report.md and report.svg go in its folder
};

Status Report(const ReportOptions& options);

}  // namespace chatpipe::bench
