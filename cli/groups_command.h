// `chatpipe groups`: the consumer groups of a deployment (its --namespace), for the operator who
// re-processes history.
//
//   chatpipe groups [--group NAME] [--json]   each group: state, live members (client id, host, their
//                                             partitions) and per partition the committed offset, the
//                                             end offset and the lag
//   chatpipe groups reset GROUP --to-datetime T | --to-earliest | --to-latest | --shift N [--topic T]...
//                         [--execute]         prints each partition's current and new offset; moves them
//                                             only with --execute; refused while GROUP has live members
//
// Group and topic names are given and shown without the namespace. Nothing here joins a group: it
// reads and alters offsets through Kafka's admin API (queue/kafka_admin.h). PlanReset is the pure part
// of a reset, for its unit test.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "queue/kafka_admin.h"

namespace chatpipe {

struct ResetTarget {
  enum Kind { kDatetime, kEarliest, kLatest, kShift } kind = kEarliest;
  int64_t value = 0;  // ms since the epoch (kDatetime) or the shift (kShift)
};

struct PartitionReset {
  int32_t partition = 0;
  int64_t current = -1;  // -1: nothing committed
  int64_t next = 0;
};

// The new offset of each partition of one topic: `marks` are its watermarks, `committed` the group's
// offsets (any topic's; -1 or absent: none), `at_time` the offsets of the target's time (kDatetime).
// A shift moves from the committed offset (from the start when none) and stays within the watermarks.
std::vector<PartitionReset> PlanReset(const std::string& topic, const std::vector<Watermark>& marks,
                                      const PartitionOffsets& committed, const ResetTarget& target,
                                      const std::vector<int64_t>& at_time);

void AddGroupsCommand(CLI::App& app);

}  // namespace chatpipe
