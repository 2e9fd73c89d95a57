// `chatpipe deadletters`: what the workers could never apply, for the operator.
//
// Reads chat.deadletter (of --namespace) without joining a consumer group, so it never moves anyone's
// offsets, and prints one JSON object per dead letter, oldest first: where it is on the dead-letter
// topic, when it was written, its key, its headers (reason, source worker, and the topic, partition
// and offset it came from) and its payload, as it came.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "queue/kafka.h"

namespace chatpipe {

// One dead letter as a line of JSON (no newline). Bytes that are not UTF-8 become U+FFFD.
std::string DeadLetterJson(const KafkaMessage& m);
void AddDeadLettersCommand(CLI::App& app);

}  // namespace chatpipe
