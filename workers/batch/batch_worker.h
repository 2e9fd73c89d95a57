// BatchWorker: the consume loop the analysis workers (tag, mention) share, modelled on the persister.
//
// It owns one consumer group's BatchConsumer on chat.messages and a producer for the dead-letter topic.
// Each turn polls a batch, decodes it (an undecodable event goes to the dead-letter topic), hands the
// events to the worker's Apply function and stores the batch's offsets only once Apply succeeded, so
// a crash or a stop before that replays the batch: Apply must be idempotent.
//   - Apply fails with a retriable code (db_unavailable, redis_unavailable, queue_unavailable): the
//     same batch is applied again after a backoff (50 ms doubling to 2 s); nothing is committed meanwhile.
//   - Apply fails otherwise: the events are applied one at a time and those refused again go to the
//     dead-letter topic with the reason, so one bad event never wedges a partition.
// Run() is called on one thread; Apply runs on that thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/events.h"
#include "common/metrics.h"
#include "queue/kafka.h"

namespace chatpipe {

class BatchWorker {
 public:
  using ApplyFn = std::function<Status(const std::vector<ChatEvent>&)>;

  // `name` names the logs, the metrics (chatpipe_<name>_...) and the dead letters' "source" header;
  // `group` is the consumer group before namespacing.
  BatchWorker(CommonConfig config, std::string name, std::string group, size_t batch_max);
  Status Start();
  // Polls and applies batches until `stop` is set, then commits what is done and leaves the group.
  void Run(const std::atomic<bool>& stop, const ApplyFn& apply);

  static bool Retriable(const Status& s);

 private:
  // Applies `events` until done or `stop`; false when stopped first.
  bool ApplyWithRetry(const std::vector<ChatEvent>& events, const std::atomic<bool>& stop, const ApplyFn& apply);
  Status ApplyOneByOne(const std::vector<ChatEvent>& events, const ApplyFn& apply);
  void DeadLetter(const std::string& payload, const std::string& key, const std::string& reason);

  CommonConfig config_;
  std::string name_;
  std::string group_;
  size_t batch_max_;
  std::unique_ptr<BatchConsumer> consumer_;
  std::unique_ptr<KafkaProducer> dead_letters_;
  Metric& events_;
  Metric& batches_;
  Metric& retries_;
  Metric& dead_;
};

}  // namespace chatpipe
