#include "ingress/room_access.h"

#include "common/metrics.h"
#include "ingress/db_round_trip.h"
#include "ingress/loop.h"
#include "storage/chat_store.h"

namespace chatpipe {
namespace {

Metric& evicted = Counter("chatpipe_ingress_room_access_evictions_total",
                          "rooms and memberships dropped from a loop's access cache at its cap");

// Before `key` goes into `map`: drops the oldest entries while the map is at `cap`, and queues `key`.
template <class Map, class Key>
void MakeRoom(Map& map, std::deque<Key>& order, const Key& key, size_t cap) {
  for (; map.size() >= cap && !order.empty(); order.pop_front()) {
    map.erase(order.front());
    evicted.Add();
  }
  order.push_back(key);
}

// What PostgreSQL says about a room and one user.
struct Learnt {
  RoomRow room;
  bool member = false;  // asked only of private rooms
};

}  // namespace

void RoomAccess::Check(int64_t room, int64_t user, std::function<void(Status, const RoomFacts&)> done) {
  auto known = rooms_.find(room);
  if (known != rooms_.end() && (!known->second.is_private || members_.count({room, user})))
    return done(Status::Ok(), known->second);
  RunOnDb<Learnt>(
      loop_->tasks(), loop_->db(),
      [room, user](PgConn& pg) -> Result<Learnt> {
        auto info = GetRoom(pg, room);
        if (!info.ok()) return info.status();
        Learnt learnt{*info};
        if (info->is_private) {
          auto member = IsMember(pg, room, user);
          if (!member.ok()) return member.status();
          learnt.member = *member;
        }
        return learnt;
      },
      [this, room, user, done = std::move(done)](Result<Learnt> learnt) {
        if (!learnt.ok()) return done(learnt.status(), RoomFacts{});
        const RoomFacts facts{learnt->room.is_private, learnt->room.moderation};
        Remember(room, facts);
        if (facts.is_private && !learnt->member)
          return done(Status::PermissionDenied("you are not a member of this private room"), facts);
        if (facts.is_private) RememberMember(room, user);
        done(Status::Ok(), facts);
      });
}

void RoomAccess::Remember(int64_t room, const RoomFacts& facts) {
  if (!rooms_.count(room)) MakeRoom(rooms_, room_order_, room, loop_->services().config.room_access_cache);
  rooms_[room] = facts;
}

void RoomAccess::RememberMember(int64_t room, int64_t user) {
  if (!members_.count({room, user}))
    MakeRoom(members_, member_order_, {room, user}, loop_->services().config.room_access_cache);
  members_.insert({room, user});
}

}  // namespace chatpipe
