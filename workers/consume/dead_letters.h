// DeadLetters: the one way a worker hands what it will never process to the dead-letter topic.
//
// Every dead letter is produced keyed and with a payload the caller chooses (the consume loop passes
// the refused message's own key and payload, unchanged), with the headers `reason` and `source` (the
// worker's name), and, when it comes from a Kafka message, `topic`, `partition` and `offset` (where
// that message is), so an operator can find and replay it (`chatpipe deadletter list|retry`). A key,
// payload or reason too long to fit Kafka's message limit is cut (a reason to 4 KiB, a key to 4 KiB,
// a payload to 900 KB), and the header `truncated_from` then holds the key's and the payload's sizes
// ("KEY,PAYLOAD"): such a letter is listed, but not retried. Each
// is an incident: logged at error level with all of that, and counted in
// chatpipe_worker_dead_letters_total{worker=source}. Send waits for the broker's report, because the
// caller stores an offset or records a row as dead right after.
// A DeadLetters does not own its producer. It is safe to use from several threads (the mail worker's
// intake and sender share one).
#pragma once

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "queue/kafka.h"
#include "workers/consume/worker_metrics.h"

namespace chatpipe {

class DeadLetters {
 public:
  DeadLetters(KafkaProducer* producer, std::string topic, std::string source);

  // Produces one dead letter and waits until the broker has it, trying again after a backoff (100 ms
  // doubling to 2 s) while it is refused. When `stop` is set first it gives up and returns the failure:
  // the caller must then not act as if it was sent (the consume loop stores no offset, so the message
  // is redone later).
  // `from`: the Kafka message it comes from, if any.
  Status Send(const std::string& key, const std::string& payload, const std::string& reason,
              const std::atomic<bool>& stop, const KafkaMessage* from = nullptr);

 private:
  using Headers = std::vector<std::pair<std::string, std::string>>;
  Status SendOnce(const std::string& key, const std::string& payload, const Headers& headers,
                  const std::atomic<bool>& stop);

  KafkaProducer* producer_;
  std::string topic_;
  std::string source_;
  Metric& sent_;
};

}  // namespace chatpipe
