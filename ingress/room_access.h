// RoomAccess: one loop's cache of who may use which room, and of each room's moderation policy.
//
// A room's existence, privacy and moderation never change, and memberships are only ever added, so
// what one PostgreSQL query learnt stays true: the loop keeps it, and a join or send in a known public
// room, or by a known member of a private one, needs no query. Rooms and users come from clients and
// grow without end, so each of the two maps holds at most IngressConfig::room_access_cache entries; at
// the cap the oldest entry is dropped (a miss costs only the query that learns it again).
//
// Ids above every room (the ceiling: the highest id when last asked) cost no query each: room ids
// rise, so the checks of such ids that arrived while no ceiling query was out wait for the next one,
// one per loop at a time, and those still above it are no room. The query starts after they arrived,
// so a room made before any of them is below it. A client naming random ids, the cheapest flood
// there is, then keeps one query of the loop's busy, not all of the database pool.
// Nothing outside reads the maps: Check hands the room's facts to its caller. Owned by its Loop, used
// on the loop's thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/moderation.h"
#include "common/status.h"

namespace chatpipe {

class Loop;

// What never changes about a room.
struct RoomFacts {
  bool is_private = false;
  Moderation moderation;
};

class RoomAccess {
 public:
  explicit RoomAccess(Loop* loop) : loop_(loop) {}

  // Calls `done` with ok and the room's facts, or with 403 (a private room `user` is not a member of),
  // 404 (no such room), or the error that kept the answer from being known (PostgreSQL away, busy) and
  // empty facts. The first check of a room, or of a private room's member, asks PostgreSQL.
  using Done = std::function<void(Status, const RoomFacts&)>;
  void Check(int64_t room, int64_t user, Done done);

 private:
  struct Waiter {
    int64_t room;
    int64_t user;
    Done done;
  };
  void Ask(int64_t room, int64_t user, Done done);  // the query of a room at or below the ceiling
  void AskCeiling();                                // for the checks waiting above it
  void Remember(int64_t room, const RoomFacts& facts);
  void RememberMember(int64_t room, int64_t user);

  Loop* loop_;
  int64_t ceiling_ = 0;          // the highest room id when last asked
  bool ceiling_asked_ = false;   // a ceiling query is out
  std::vector<Waiter> above_;    // checks of ids above the ceiling, for the next ceiling query
  std::unordered_map<int64_t, RoomFacts> rooms_;
  std::set<std::pair<int64_t, int64_t>> members_;  // (room, user) known to be members
  std::deque<int64_t> room_order_;                  // rooms_'s keys, oldest first
  std::deque<std::pair<int64_t, int64_t>> member_order_;
};

}  // namespace chatpipe
