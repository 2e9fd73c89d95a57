// Placement: which room a scenario's member joins and which members send, computed the same way by
// every generator process from the scenario's totals, so that however the members are split over
// processes each room gets its share of the senders (and so of the offered rate), and the senders
// are spread over the processes (and so over the server nodes they connect to).
//
// Members (joining connections; visitors apart) are numbered across the processes, 0..members-1;
// member g joins room g mod rooms, as the g / rooms-th member of that room.
#pragma once

#include <cstdint>

namespace chatpipe::bench {

struct Placement {
  int64_t members = 0;  // in the whole scenario
  int64_t rooms = 0;
  int64_t senders = 0;  // in the whole scenario

  int64_t RoomOf(int64_t member) const { return member % rooms; }
  int64_t MembersOf(int64_t room) const { return members / rooms + (room < members % rooms ? 1 : 0); }
  // senders / rooms each, one more for the first senders % rooms rooms; never more than its members.
  int64_t SendersOf(int64_t room) const;
  // Room r's k senders are its members of rank floor((j + r / rooms) * M / k), j = 0..k-1: evenly
  // spaced through the room, each room shifted by its own fraction, so that with one or a few senders
  // a room the rooms' senders still fall in different processes.
  bool IsSender(int64_t member) const;
};

}  // namespace chatpipe::bench
