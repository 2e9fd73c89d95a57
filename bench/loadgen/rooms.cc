#include "bench/loadgen/rooms.h"

#include <algorithm>
#include <vector>

namespace chatpipe::bench {
namespace {

uint64_t Middle(std::vector<uint64_t> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

}  // namespace

RoomFigures SummarizeRooms(const std::map<int64_t, Histogram>& delivery_us_by_room,
                           const std::map<int64_t, uint64_t>& acked_by_room,
                           const std::map<int64_t, uint64_t>& members_by_room) {
  RoomFigures f;
  std::vector<uint64_t> p99s, p50s;
  for (const auto& [room, h] : delivery_us_by_room) {
    if (!h.count()) continue;
    const uint64_t p99 = h.ValueAt(99);
    if (p99s.empty() || p99 > f.p99_worst_us) {  // ascending ids: the first of equals stays
      f.p99_worst_us = p99;
      f.worst_room = room;
    }
    p99s.push_back(p99);
    p50s.push_back(h.ValueAt(50));
  }
  f.measured = p99s.size();
  f.p99_median_us = Middle(std::move(p99s));
  f.p50_median_us = Middle(std::move(p50s));

  bool first = true;
  for (const auto& [room, members] : members_by_room) {
    if (!members) continue;
    f.with_members++;
    auto acked = acked_by_room.find(room);
    const uint64_t expected = acked == acked_by_room.end() ? 0 : acked->second * members;
    auto h = delivery_us_by_room.find(room);
    const uint64_t got = h == delivery_us_by_room.end() ? 0 : h->second.count();
    if (!expected) f.without_messages++;
    if (got < expected) f.short_of_expected++;
    f.deliveries_min = first ? got : std::min(f.deliveries_min, got);
    f.deliveries_max = std::max(f.deliveries_max, got);
    first = false;
  }
  return f;
}

}  // namespace chatpipe::bench
