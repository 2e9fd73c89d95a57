// RoomAccess: one loop's knowledge of who may use which room, and of each room's moderation policy.
//
// A room's existence, privacy and moderation never change, and memberships are only ever added, so
// what one PostgreSQL query learnt stays true: the loop keeps it, and a join or send in a known public
// room, or by a known member of a private one, needs no query. Owned by its Loop, used on the loop's
// thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/status.h"

namespace chatpipe {

class Loop;

class RoomAccess {
 public:
  explicit RoomAccess(Loop* loop) : loop_(loop) {}

  // Calls `done` with ok, 403 (a private room `user` is not a member of), 404 (no such room), or the
  // error that kept the answer from being known (PostgreSQL away, busy). The first check of a room, or
  // of a private room's member, asks PostgreSQL.
  void Check(int64_t room, int64_t user, std::function<void(Status)> done);
  // The room's moderation policy (tag, mask, block) as Check learnt it; every send passes Check first.
  const std::string& Moderation(int64_t room) const;

 private:
  struct Facts {
    bool is_private = false;
    std::string moderation;
  };

  Loop* loop_;
  std::unordered_map<int64_t, Facts> rooms_;
  std::set<std::pair<int64_t, int64_t>> members_;  // (room, user) known to be members
};

}  // namespace chatpipe
