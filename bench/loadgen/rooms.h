// RoomFigures: the many-rooms figures of a run, from its per-room send->delivery histograms
// (Stats::delivery_us_by_room, merged over the generator processes) and its per-room acks and
// members: how the median room and the worst room fared, and whether every room got its messages.
#pragma once

#include <cstdint>
#include <map>

#include "bench/loadgen/histogram.h"

namespace chatpipe::bench {

struct RoomFigures {
  size_t measured = 0;          // rooms with deliveries
  uint64_t p99_median_us = 0;   // the rooms' p99s, the middle one (the upper of two)
  uint64_t p99_worst_us = 0;    // the highest room p99...
  int64_t worst_room = 0;       // ...and its room (the lowest id of equals)
  uint64_t p50_median_us = 0;   // the rooms' p50s, the middle one
  // Rooms with members at the end: how many, how many got no message (no sender, or nothing
  // acked), and how many got fewer unique deliveries than their acked messages x members.
  size_t with_members = 0;
  size_t without_messages = 0;
  size_t short_of_expected = 0;
  uint64_t deliveries_min = 0, deliveries_max = 0;  // unique deliveries per room with members
};

RoomFigures SummarizeRooms(const std::map<int64_t, Histogram>& delivery_us_by_room,
                           const std::map<int64_t, uint64_t>& acked_by_room,
                           const std::map<int64_t, uint64_t>& members_by_room);

}  // namespace chatpipe::bench
