// `chatpipe deadletter`: what the workers could never apply, for the operator.
//
//   chatpipe deadletter list [--last N]   one JSON object per dead letter, oldest first: its id, when it
//                                         was written, its key, headers (reason, source worker, and the
//                                         topic, partition and offset it came from) and payload
//   chatpipe deadletter retry [--id ID]...  produces each (all, without --id) back to the topic it came
//                                         from, with its key and payload and its headers minus the
//                                         dead-letter ones, once: dead_letter_retries records it
//
// A dead letter's id is its place on the dead-letter topic, "chat.deadletter/<partition>/<offset>"
// (without the namespace). Both stream the topic (queue/kafka.h's ForEachRecord: no consumer group,
// one letter in memory at a time), printing or retrying each letter as it is read; a read fails only
// when the topic stops giving letters short of its end for 30 s, not when it is long. A retry by id
// reads only from the first letter named to the last. A retry is recorded
// in the same transaction that waits for the broker's report, so an id is put back at most once, bar
// a crash between the report and the commit; the workers' idempotence covers that duplicate. Dead
// letters with no source topic (the mailer's undeliverable e-mails) cannot be put back.
#pragma once

#include <CLI/CLI.hpp>

#include <ostream>
#include <string>
#include <vector>

#include "common/config.h"
#include "queue/kafka.h"
#include "queue/kafka_admin.h"

namespace chatpipe {

// A dead letter's id: "<topic without namespace>/<partition>/<offset>".
std::string DeadLetterId(const CommonConfig& config, const KafkaMessage& m);
// One dead letter as a line of JSON (no newline). Bytes that are not UTF-8 become U+FFFD.
std::string DeadLetterJson(const CommonConfig& config, const KafkaMessage& m);
// What a retry of `ids` reads of the dead-letter topic, whose partitions hold `held` (its watermarks):
// the partitions the ids name, each from the lowest offset named to the highest. Fails (no_dead_letter)
// on an id that is no dead letter's: not an id of this topic, or outside what its partition holds.
Result<ReadOptions> DeadLetterRange(const CommonConfig& config, const std::vector<std::string>& ids,
                                    const std::vector<Watermark>& held);
// Puts back the dead letters with these ids (all when empty) as they are read, saying on `out` what
// became of each. Fails on an unknown id before putting any back (bar a letter that retention takes
// while the retry runs: its id fails the retry at the end).
Status RetryDeadLetters(const CommonConfig& config, const std::vector<std::string>& ids, std::ostream& out);
void AddDeadLetterCommand(CLI::App& app);

}  // namespace chatpipe
