#include "bench/loadgen/placement.h"

#include <algorithm>

namespace chatpipe::bench {

int64_t Placement::SendersOf(int64_t room) const {
  const int64_t wanted = senders / rooms + (room < senders % rooms ? 1 : 0);
  return std::min(wanted, MembersOf(room));
}

bool Placement::IsSender(int64_t member) const {
  if (rooms <= 0 || member < 0 || member >= members) return false;
  const int64_t room = RoomOf(member), rank = member / rooms;
  const int64_t k = SendersOf(room), m = MembersOf(room);
  if (k == 0) return false;
  // Sender j's rank is floor((j * rooms + room) * m / (k * rooms)); ranks are at least one apart
  // (k <= m), so only floor(rank * k / m) and the j after it can land on `rank`.
  const int64_t near = rank * k / m;
  for (int64_t j = near; j <= std::min(near + 1, k - 1); ++j)
    if ((j * rooms + room) * m / (k * rooms) == rank) return true;
  return false;
}

}  // namespace chatpipe::bench
