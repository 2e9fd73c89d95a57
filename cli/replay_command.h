// `chatpipe replay`: a range of one of chatpipe's topics, written as JSON Lines or CSV, for analysts
// (docs/replay.md).
//
// RunReplay plans the range (TopicReplayer, replay_reader.h), optionally rebuilds the part retention
// removed from PostgreSQL (replay_fallback.h), then streams the rest from Kafka through the filter and
// the formatter into the output, showing progress; a stop request ends it after the batch in hand with
// the output whole.
#pragma once

#include <CLI/CLI.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/replay_reader.h"
#include "common/config.h"
#include "common/status.h"

namespace chatpipe {

struct ReplayOptions {
  CommonConfig common;
  std::string topic;             // chat.messages, chat.notify, chat.deadletter, ...; namespaced by common.ns
  std::string from = "earliest";
  std::string to;                // empty: the ends the partitions have when the replay starts
  std::vector<int64_t> rooms;
  std::vector<std::string> users;
  std::string format = "jsonl";  // jsonl or csv
  std::string output;            // empty or "-": stdout
  bool fallback_db = false;
  bool progress = true;          // on stderr
};

struct ReplaySummary {
  ReplayPlan plan;          // `next` of each partition: how far it got
  int64_t events = 0;       // written, from the topic
  int64_t from_db = 0;      // written, from PostgreSQL (--fallback-db)
  int64_t unwritable = 0;   // events that could not be written whole (see EventFormatter::Append)
  bool stopped = false;     // a stop request ended it before the end of the range
  double seconds = 0;
};

// The topic's name on the broker, and its name without the namespace (which says its schema).
struct TopicNames {
  std::string full, logical;
};
TopicNames ResolveTopic(const CommonConfig& common, const std::string& topic);

Result<ReplaySummary> RunReplay(const ReplayOptions& options, const std::atomic<bool>& stop);
void AddReplayCommand(CLI::App& app);

}  // namespace chatpipe
