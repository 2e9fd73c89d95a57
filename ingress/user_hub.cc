#include "ingress/user_hub.h"

#include <event2/event.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "common/message_id.h"
#include "common/metrics.h"
#include "ingress/connection.h"
#include "ingress/loop.h"
#include "ingress/sessions_api.h"
#include "ingress/shared_frame.h"
#include "storage/redis_keys.h"

namespace chatpipe {
namespace {

Metric& notifications = Counter("chatpipe_ingress_user_frames_total", "user-channel frames sent to WebSocket clients");

std::string ExpiryMs() { return std::to_string(NowMs() + kPresenceTtlMs); }

void Ignore(redisReply*) {}

}  // namespace

void UserHub::Stop() {
  if (refresh_) event_free(refresh_);
  refresh_ = nullptr;
}

void UserHub::Start() {
  refresh_ = event_new(loop_->base(), -1, EV_PERSIST, &UserHub::OnRefresh, this);
  timeval every{kPresenceTtlMs / 3000, (kPresenceTtlMs / 3) % 1000 * 1000};
  event_add(refresh_, &every);
}

std::string UserHub::Member() const { return loop_->services().instance_id + "/" + std::to_string(loop_->index()); }

void UserHub::Add(Connection* conn) {
  int64_t user = conn->user().id;
  auto& conns = users_[user];
  conns.push_back(conn);
  // Its upgrade found the session live, but a logout since may have been published before this
  // connection was here to hear it: check again now it is (else once the channel is confirmed).
  if (confirmed_.count(user)) CheckSession(conn);
  if (conns.size() > 1) return;
  // While an UNSUBSCRIBE is pending, OnUnsubscribed subscribes again.
  if (!unsubscribing_.count(user) && subscribed_.insert(user).second)
    loop_->redis().Subscribe(UserChannel(loop_->redis_prefix(), user));
  loop_->redis().Command({"ZADD", OnlineKey(loop_->redis_prefix(), user), ExpiryMs(), Member()}, Ignore);
  loop_->redis().Command({"PEXPIRE", OnlineKey(loop_->redis_prefix(), user), std::to_string(kPresenceTtlMs)}, Ignore);
}

void UserHub::Remove(Connection* conn) {
  int64_t user = conn->user().id;
  auto it = users_.find(user);
  if (it == users_.end()) return;
  auto& conns = it->second;
  conns.erase(std::remove(conns.begin(), conns.end(), conn), conns.end());
  if (!conns.empty()) return;
  users_.erase(it);
  loop_->redis().Command({"ZREM", OnlineKey(loop_->redis_prefix(), user), Member()}, Ignore);
  confirmed_.erase(user);
  if (subscribed_.erase(user)) {
    unsubscribing_.insert(user);
    loop_->redis().Unsubscribe(UserChannel(loop_->redis_prefix(), user));
  }
}

bool UserHub::OnSubscribed(std::string_view channel) {
  int64_t user = UserOfChannel(channel);
  if (!user) return false;
  auto it = users_.find(user);
  if (it == users_.end()) return true;  // gone meanwhile: its UNSUBSCRIBE is on the way
  confirmed_.insert(user);
  // Every logout published from now on arrives; one published before did set its key before.
  for (Connection* c : it->second) CheckSession(c);
  return true;
}

void UserHub::CheckSession(Connection* conn) {
  Loop* loop = loop_;
  uint64_t id = conn->id();
  CheckSessionLive(*loop_, conn->user().session, [loop, id](Status live) {
    if (live.ok()) return;
    if (Connection* c = loop->FindConnection(id)) c->CloseWebSocket(ws::kCloseLoggedOut, "logged out");
  });
}

bool UserHub::OnUnsubscribed(std::string_view channel) {
  int64_t user = UserOfChannel(channel);
  if (!user) return false;
  unsubscribing_.erase(user);
  confirmed_.erase(user);
  if (users_.count(user) && subscribed_.insert(user).second)
    loop_->redis().Subscribe(UserChannel(loop_->redis_prefix(), user));
  return true;
}

void UserHub::EnteredRoom(Connection* conn, int64_t room) {
  ++seats_[{conn->user().id, room}].seated;
  const std::string key = RoomPresentKey(loop_->redis_prefix(), room);
  loop_->redis().Command({"ZADD", key, ExpiryMs(), std::to_string(conn->user().id)}, Ignore);
  loop_->redis().Command({"PEXPIRE", key, std::to_string(kPresenceTtlMs)}, Ignore);
}

void UserHub::Announced(const Connection* conn, int64_t room) { ++seats_[{conn->user().id, room}].joined; }

int UserHub::JoinedSeats(int64_t user, int64_t room) const {
  auto it = seats_.find({user, room});
  return it == seats_.end() ? 0 : it->second.joined;
}

void UserHub::ChangePresence(int64_t user, int64_t room, bool joined, std::function<void(bool)> done) {
  const std::string key = RoomUserKey(loop_->redis_prefix(), room, user);
  const std::string now = std::to_string(NowMs());
  auto reply = [done = std::move(done)](redisReply* r) {
    done(!r || r->type != REDIS_REPLY_INTEGER || r->integer == 1);
  };
  if (joined)
    loop_->redis().Command(
        {"EVAL", kPresenceEnterScript, "1", key, now, ExpiryMs(), Member(), std::to_string(kPresenceTtlMs)},
        std::move(reply));
  else
    loop_->redis().Command({"EVAL", kPresenceLeaveScript, "1", key, now, Member()}, std::move(reply));
}

void UserHub::LeftRoom(Connection* conn, int64_t room, bool joined) {
  auto it = seats_.find({conn->user().id, room});
  if (it == seats_.end()) return;
  it->second.joined -= joined;
  if (--it->second.seated > 0) return;
  seats_.erase(it);
  // Other loops or processes may still hold the user in the room: their next refresh adds it back.
  loop_->redis().Command({"ZREM", RoomPresentKey(loop_->redis_prefix(), room), std::to_string(conn->user().id)},
                         Ignore);
}

int64_t UserHub::UserOfChannel(std::string_view channel) const {
  std::string_view prefix = loop_->redis_prefix();
  if (channel.substr(0, prefix.size()) != prefix) return 0;
  channel.remove_prefix(prefix.size());
  if (channel.substr(0, 5) != "user:") return 0;
  int64_t user = 0;
  std::from_chars(channel.data() + 5, channel.data() + channel.size(), user);
  return user;
}

bool UserHub::OnChannelMessage(std::string_view channel, std::string_view payload) {
  int64_t user = UserOfChannel(channel);
  if (!user) return false;
  auto it = users_.find(user);
  if (it == users_.end()) return true;
  if (std::string_view ended = SessionOfEndedFrame(payload); !ended.empty()) {
    for (Connection* c : it->second)
      if (c->user().session == ended) c->CloseWebSocket(ws::kCloseLoggedOut, "logged out");
    return true;
  }
  SharedFrame* frame = SharedFrame::MakeText(payload);
  for (Connection* c : it->second) {
    c->SendShared(frame);
    notifications.Add();
  }
  frame->Unref();
  return true;
}

void UserHub::ResubscribeAll(size_t shard) {
  RedisLinks& redis = loop_->redis();
  auto on_shard = [&](int64_t user) { return redis.ShardOf(UserChannel(loop_->redis_prefix(), user)) == shard; };
  // A new subscriber connection starts with no subscription.
  std::erase_if(subscribed_, on_shard);
  std::erase_if(confirmed_, on_shard);
  std::erase_if(unsubscribing_, on_shard);
  for (const auto& [user, conns] : users_) {
    if (!on_shard(user)) continue;
    subscribed_.insert(user);
    redis.Subscribe(UserChannel(loop_->redis_prefix(), user));
  }
}

void UserHub::OnRefresh(int, short, void* arg) { static_cast<UserHub*>(arg)->Refresh(); }

// One pipelined burst per period: hiredis writes every queued command in the loop's next write.
void UserHub::Refresh() {
  const std::string expiry = ExpiryMs(), ttl = std::to_string(kPresenceTtlMs), member = Member();
  std::set<std::pair<int64_t, int64_t>> present, joined;  // (room, user)
  for (const auto& [user, conns] : users_) {
    const std::string key = OnlineKey(loop_->redis_prefix(), user);
    loop_->redis().Command({"ZADD", key, expiry, member}, Ignore);
    loop_->redis().Command({"PEXPIRE", key, ttl}, Ignore);
    for (Connection* c : conns)
      for (const Seat& seat : c->seats()) {
        present.insert({seat.room, user});
        if (seat.joined) joined.insert({seat.room, user});
      }
  }
  for (const auto& [room, user] : present) {
    const std::string key = RoomPresentKey(loop_->redis_prefix(), room);
    loop_->redis().Command({"ZADD", key, expiry, std::to_string(user)}, Ignore);
    loop_->redis().Command({"PEXPIRE", key, ttl}, Ignore);
  }
  for (const auto& [room, user] : joined) {
    const std::string key = RoomUserKey(loop_->redis_prefix(), room, user);
    loop_->redis().Command({"ZADD", key, expiry, member}, Ignore);
    loop_->redis().Command({"PEXPIRE", key, ttl}, Ignore);
  }
}

}  // namespace chatpipe
