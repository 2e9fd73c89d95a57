// The metrics every worker's consume loop keeps, under the same names for every worker, told apart by
// the label worker="<name>": chatpipe_worker_events_total, _batches_total, _retries_total and
// _dead_letters_total, the gauge chatpipe_worker_consumer_lag (messages of its assigned partitions not
// stored yet, BatchConsumer::Lag, refreshed about once a second), and two hops of chatpipe_latency_seconds (docs/operations.md): hop="kafka", from
// an event's produce to the poll that brought it here, and hop="apply", the apply step's time, counted
// once per event of the batch. The series live in Metrics::Global(); a WorkerMetrics only refers to them.
#pragma once

#include <string>

#include "common/metrics.h"

namespace chatpipe {

struct WorkerMetrics {
  static WorkerMetrics For(const std::string& worker);

  Metric& events;        // events decoded and applied (or dead-lettered by the apply step)
  Metric& batches;       // batches whose offsets were stored
  Metric& retries;       // batch attempts that failed and were retried
  Metric& dead_letters;  // messages sent to the dead-letter topic
  Metric& lag;           // gauge: messages of its partitions not stored yet
  LatencyHistogram& in_kafka;
  LatencyHistogram& apply;
};

}  // namespace chatpipe
