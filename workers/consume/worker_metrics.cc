#include "workers/consume/worker_metrics.h"

namespace chatpipe {

WorkerMetrics WorkerMetrics::For(const std::string& worker) {
  const MetricLabels label{{"worker", worker}};
  return WorkerMetrics{
      Counter("chatpipe_worker_events_total", "events a worker applied", label),
      Counter("chatpipe_worker_batches_total", "batches a worker applied and stored the offsets of", label),
      Counter("chatpipe_worker_retries_total", "batch attempts that failed and were retried", label),
      Counter("chatpipe_worker_dead_letters_total", "messages sent to the dead-letter topic", label),
      Gauge("chatpipe_worker_consumer_lag",
            "messages in this process's assigned partitions not applied and stored yet (sum over the processes "
            "of a worker: its group's lag)",
            label),
      Histogram(kLatencyMetric, kLatencyHelp, {{"hop", "kafka"}, {"worker", worker}}),
      Histogram(kLatencyMetric, kLatencyHelp, {{"hop", "apply"}, {"worker", worker}}),
  };
}

}  // namespace chatpipe
