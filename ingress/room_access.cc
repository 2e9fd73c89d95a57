#include "ingress/room_access.h"

#include <algorithm>
#include <memory>

#include "common/metrics.h"
#include "ingress/db_round_trip.h"
#include "ingress/loop.h"
#include "storage/chat_store.h"

namespace chatpipe {
namespace {

Metric& evicted = Counter("chatpipe_ingress_room_access_evictions_total",
                          "rooms and memberships dropped from a loop's access cache at its cap");
Metric& ceiling_queries = Counter("chatpipe_ingress_room_ceiling_queries_total",
                                  "queries of the highest room id, for checks of ids above every room a loop knew");

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

void RoomAccess::Check(int64_t room, int64_t user, Done done) {
  auto known = rooms_.find(room);
  if (known != rooms_.end() && (!known->second.is_private || members_.count({room, user})))
    return done(Status::Ok(), known->second);
  if (known != rooms_.end() || room <= ceiling_) return Ask(room, user, std::move(done));
  // As many as the loop may owe answers: each is a client's check waiting on the database.
  if (above_.size() >= loop_->tasks().max_owed()) return done(Busy(), RoomFacts{});
  above_.push_back({room, user, std::move(done)});
  if (!ceiling_asked_) AskCeiling();
}

void RoomAccess::AskCeiling() {
  ceiling_asked_ = true;
  ceiling_queries.Add();
  auto asked = std::make_shared<std::vector<Waiter>>(std::move(above_));
  above_.clear();
  RunOnDb<int64_t>(
      loop_->tasks(), loop_->db(), [](PgConn& pg) { return MaxRoomId(pg); },
      [this, asked](Result<int64_t> ceiling) {
        ceiling_asked_ = false;
        if (ceiling.ok()) ceiling_ = std::max(ceiling_, *ceiling);
        for (Waiter& w : *asked) {
          if (!ceiling.ok()) {
            w.done(ceiling.status(), RoomFacts{});
          } else if (w.room > ceiling_) {
            w.done(Status::NotFound("unknown_room", "no room with id " + std::to_string(w.room)), RoomFacts{});
          } else {
            Ask(w.room, w.user, std::move(w.done));
          }
        }
        if (!above_.empty()) AskCeiling();
      });
}

void RoomAccess::Ask(int64_t room, int64_t user, Done done) {
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
