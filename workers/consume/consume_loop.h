// ConsumeLoop<Event>: the loop every worker runs. A worker is a decoder, an apply step and a command line.
//
// It owns one consumer group's BatchConsumer on the worker's topics and the producer of its dead letters
// (DeadLetters). Each turn it polls up to `batch_max` messages and decodes each (KafkaMessage ->
// Result<Event>); a message that does not decode is dead-lettered as it came, with the reason. It hands
// the decoded events to Apply and stores the batch's offsets only once Apply succeeded, so a crash or a
// stop before that replays the batch: Apply must be idempotent.
//   - Apply fails and IsRetriable() says so (common/status.h): the same batch is applied again after a
//     backoff (50 ms doubling to 2 s); nothing is stored meanwhile.
//   - Apply fails otherwise: the events are applied one at a time and those refused again are
//     dead-lettered (their source message's key and payload, unchanged), so one bad event never
//     wedges a partition.
// A range run (ConsumeRange) runs a group of its own over a span of time: a fresh group starts at the
// offsets of `from_ms` (Kafka's offsets-for-times, per partition), a group that has committed offsets
// resumes at them, and Run returns by itself once every partition has passed the offsets of `to_ms`
// (resolved at Start), committing what it applied; events at or past them are not applied. One process
// runs a range: it waits for every partition of the topics, so members of a larger group never end.
// Stop is honoured at every wait: a batch not finished when it is set is left unstored, to be redone by
// the partition's next owner, even while Kafka, PostgreSQL or Redis is down. Metrics: WorkerMetrics.
//
// Run() is called on one thread; Decode and Apply run on it. The typed template only keeps the batch's
// events; the loop itself is ConsumeCore, in consume_loop.cc.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/events.h"
#include "queue/kafka.h"
#include "workers/consume/dead_letters.h"
#include "workers/consume/worker_metrics.h"

namespace chatpipe {

// The span of a range run, in ms since the epoch; -1: open (the group's start, or no end).
struct ConsumeRange {
  int64_t from_ms = -1;
  int64_t to_ms = -1;
  bool active() const { return from_ms >= 0 || to_ms >= 0; }
};

// Workers set the first four (designated initialisers); tests may send dead letters elsewhere.
struct ConsumeOptions {
  std::string worker;               // names the logs, the metrics' worker label, dead letters' "source"
  std::string group;                // the consumer group, before namespacing
  std::vector<std::string> topics;  // before namespacing
  size_t batch_max = 500;
  std::string dead_letter_brokers = {};  // empty: the config's Kafka
  ConsumeRange range = {};
  // How long a batch keeps gathering events after its first (up to batch_max). 0: it takes what is
  // ready. For workers off the delivery path, whose cost is per batch more than per event.
  std::chrono::milliseconds gather = std::chrono::milliseconds(0);
};

// The loop without the event type: the template below gives it these steps over its current batch.
class ConsumeCore {
 public:
  struct Steps {
    std::function<void()> clear;                              // forget the last batch's events
    std::function<Status(const KafkaMessage&)> decode;        // decode one and keep it, or say why not
    std::function<Status(size_t first, size_t count)> apply;  // apply kept events [first, first + count)
  };

  ConsumeCore(CommonConfig config, ConsumeOptions options, Steps steps);
  Status Start();  // joins the group (a range run: after placing a fresh group at `from`), opens the dead-letter producer
  // Polls and applies batches until `stop` is set (or a range run's end), then commits what is stored
  // and leaves the group.
  void Run(const std::atomic<bool>& stop);
  DeadLetters& dead_letters() { return *dead_letters_; }  // after Start()
  bool RangeDone() const;  // a range run that has passed its end: Run returned by itself
  // The worker's readiness as far as Kafka goes (BatchConsumer::CheckJoined): from any thread, after
  // Start() and while this object lives.
  Status CheckKafka(std::chrono::milliseconds timeout) { return consumer_->CheckJoined(timeout); }

 private:
  // Decodes and applies one batch; false when stopped before it was done (store nothing).
  bool Process(const std::vector<KafkaMessage>& batch, const std::atomic<bool>& stop);
  // Counts each message's time from its produce (its Kafka timestamp) to this poll.
  void NoteTimeInKafka(const std::vector<KafkaMessage>& batch);
  // Refreshes the lag gauge, at most once a second: also while a batch is being retried, so an
  // alert sees the lag grow while the worker waits for PostgreSQL or Redis.
  void NoteLag();
  // A range run: commits `from`'s offsets for a fresh group and learns where each partition ends.
  Status StartRange(const std::string& group, const std::vector<std::string>& topics);
  // Drops the batch's events at or past their partition's end and notes the partitions now done.
  void ClipToRange(std::vector<KafkaMessage>& batch);
  bool ApplyWithRetry(const std::vector<const KafkaMessage*>& sources, const std::atomic<bool>& stop);
  // From sources[*next] on; *next is left at the event a retriable failure stopped on.
  Status ApplyOneByOne(const std::vector<const KafkaMessage*>& sources, const std::atomic<bool>& stop, size_t* next);

  CommonConfig config_;
  ConsumeOptions options_;
  Steps steps_;
  WorkerMetrics metrics_;
  std::unique_ptr<BatchConsumer> consumer_;
  std::unique_ptr<KafkaProducer> producer_;
  std::unique_ptr<DeadLetters> dead_letters_;  // uses producer_: declared after it, so destroyed first
  std::map<std::pair<std::string, int32_t>, int64_t> range_ends_;  // a range run's partitions not done yet
  int64_t range_events_ = 0;
  std::chrono::steady_clock::time_point lag_noted_;
};

template <typename Event>
class ConsumeLoop {
 public:
  using Decoder = std::function<Result<Event>(const KafkaMessage&)>;
  using Apply = std::function<Status(const std::vector<Event>&)>;

  ConsumeLoop(CommonConfig config, ConsumeOptions options, Decoder decode, Apply apply)
      : decode_(std::move(decode)),
        apply_(std::move(apply)),
        core_(std::move(config), std::move(options),
              {[this] { events_.clear(); }, [this](const KafkaMessage& m) { return Decode(m); },
               [this](size_t first, size_t count) { return ApplyRange(first, count); }}) {}
  ConsumeLoop(const ConsumeLoop&) = delete;  // the core's steps point at this object
  ConsumeLoop& operator=(const ConsumeLoop&) = delete;

  Status Start() { return core_.Start(); }
  void Run(const std::atomic<bool>& stop) { core_.Run(stop); }
  // The worker's dead letters, for what it refuses outside the loop (the mailer's sender). After Start().
  DeadLetters& dead_letters() { return core_.dead_letters(); }
  bool RangeDone() const { return core_.RangeDone(); }
  Status CheckKafka(std::chrono::milliseconds timeout) { return core_.CheckKafka(timeout); }  // ConsumeCore's

 private:
  Status Decode(const KafkaMessage& m) {
    Result<Event> e = decode_(m);
    if (e.ok()) events_.push_back(std::move(*e));
    return e.status();
  }
  Status ApplyRange(size_t first, size_t count) {
    if (first == 0 && count == events_.size()) return apply_(events_);
    return apply_(std::vector<Event>(events_.begin() + first, events_.begin() + first + count));
  }

  Decoder decode_;
  Apply apply_;
  std::vector<Event> events_;  // the current batch's decoded events, in order
  ConsumeCore core_;
};

// The decoder of chat.messages, for the workers that read it (persist, tag, mention).
Result<ChatEvent> DecodeChatMessage(const KafkaMessage& m);

}  // namespace chatpipe
