#include "ingress/room_access.h"

#include "ingress/db_round_trip.h"
#include "ingress/loop.h"
#include "storage/chat_store.h"

namespace chatpipe {
namespace {

// What PostgreSQL says about a room and one user.
struct Learnt {
  RoomRow room;
  bool member = false;  // asked only of private rooms
};

}  // namespace

void RoomAccess::Check(int64_t room, int64_t user, std::function<void(Status)> done) {
  auto known = rooms_.find(room);
  if (known != rooms_.end() && (!known->second.is_private || members_.count({room, user}))) return done(Status::Ok());
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
        if (!learnt.ok()) return done(learnt.status());
        rooms_[room] = {learnt->room.is_private, learnt->room.moderation};
        if (!learnt->room.is_private) return done(Status::Ok());
        if (!learnt->member) return done(Status::PermissionDenied("you are not a member of this private room"));
        members_.insert({room, user});
        done(Status::Ok());
      });
}

const std::string& RoomAccess::Moderation(int64_t room) const {
  static const std::string kDefault = "tag";
  auto it = rooms_.find(room);
  return it == rooms_.end() ? kDefault : it->second.moderation;
}

}  // namespace chatpipe
