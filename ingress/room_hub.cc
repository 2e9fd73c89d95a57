#include "ingress/room_hub.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <event2/event.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <unordered_map>

#include "common/events.h"
#include "common/message_id.h"
#include "common/metrics.h"
#include "ingress/connection.h"
#include "ingress/db_round_trip.h"
#include "ingress/http_status.h"
#include "ingress/loop.h"
#include "ingress/room_tags.h"
#include "ingress/shared_frame.h"
#include "ingress/websocket.h"
#include "storage/chat_store.h"
#include "storage/redis_keys.h"

namespace chatpipe {
namespace {

Metric& deliveries = Counter("chatpipe_ingress_deliveries_total", "frames sent to WebSocket clients from rooms");
Metric& duplicates = Counter("chatpipe_ingress_duplicate_frames_total", "room frames dropped as already sent");
// Every catch-up (a join's, or a seat's after a Redis reconnect) counts once, by what it cost: no read
// of its own (the known head, or a head read in flight for the room), the history list, PostgreSQL.
Metric& fetch_none = Counter("chatpipe_ingress_join_fetches_none_total", "catch-ups that needed no read");
Metric& fetch_redis = Counter("chatpipe_ingress_join_fetches_redis_total", "catch-ups read from the history list");
Metric& fetch_pg = Counter("chatpipe_ingress_join_fetches_pg_total", "catch-ups that queried PostgreSQL");
Metric& replays_waited = Counter("chatpipe_ingress_join_replays_waited_total",
                                 "join replays that waited for the connection's previous replay to drain");
Metric& held_dropped = Counter("chatpipe_ingress_held_dropped_total",
                               "catch-ups whose held live frames passed the connection's budget and were read again");
Metric& presence_frames = Counter("chatpipe_ingress_presence_frames_total", "presence frames published");
LatencyHistogram& fanout_time = Histogram(kLatencyMetric, kLatencyHelp, {{"hop", "fanout"}});
LatencyHistogram& server_time = Histogram(kLatencyMetric, kLatencyHelp, {{"hop", "server"}});
constexpr size_t kBatchKeep = 1 << 16;  // a room's batch buffer keeps at most this much between bursts

// What a catch-up read from PostgreSQL (RoomHub::Fetch).
struct StoredFrames {
  std::vector<std::pair<int64_t, std::string>> frames;  // (pos, frame), oldest first
  int64_t head = 0;
  bool exact = true;
};

// A message's ingress stamp, from the id after its head (the id's high bits are its time); 0 if none.
int64_t StampMs(const FrameHead& head) {
  std::string_view id = head.rest.substr(std::min(head.rest.size(), kFrameIdKey.size()));
  uint64_t value = 0;
  if (std::from_chars(id.data(), id.data() + id.size(), value).ec != std::errc()) return 0;
  return static_cast<int64_t>(MessageIdGenerator::TimestampMs(value));
}

std::string JoinedFrame(int64_t room, int64_t pos) {
  return "{\"type\":\"joined\",\"room\":" + std::to_string(room) + ",\"pos\":" + std::to_string(pos) + "}";
}

void WriteUsers(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* key,
                const std::vector<std::pair<int64_t, const std::string*>>& users) {
  w.Key(key);
  w.StartArray();
  for (const auto& [id, name] : users) {
    w.StartObject();
    w.Key("id");
    w.Int64(id);
    w.Key("name");
    w.String(name->data(), static_cast<rapidjson::SizeType>(name->size()));
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

std::string PresenceFrame(int64_t room, const std::vector<PresenceChange>& changes) {
  struct Net {
    int64_t user;
    const std::string* name;  // the latest
    int count = 0;            // joins minus leaves
  };
  std::vector<Net> order;  // users by first change
  std::unordered_map<int64_t, size_t> index;
  for (const PresenceChange& c : changes) {
    auto [it, fresh] = index.try_emplace(c.user, order.size());
    if (fresh) order.push_back({c.user, &c.name});
    Net& n = order[it->second];
    n.name = &c.name;
    n.count += c.joined ? 1 : -1;
  }
  std::vector<std::pair<int64_t, const std::string*>> joined, left;
  for (const Net& n : order) {
    if (n.count > 0) joined.emplace_back(n.user, n.name);
    if (n.count < 0) left.emplace_back(n.user, n.name);
  }
  if (joined.empty() && left.empty()) return {};
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("type");
  w.String("presence");
  w.Key("room");
  w.Int64(room);
  WriteUsers(w, "joined", joined);
  WriteUsers(w, "left", left);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

RoomHub::~RoomHub() = default;

RoomHub::RoomHub(Loop* loop) : loop_(loop), epochs_(loop->redis().shards(), 0) {}

int64_t RoomHub::RoomFromChannel(std::string_view channel) const {
  return RoomOfChannel(loop_->redis_prefix(), channel);
}

void RoomHub::Join(Connection* conn, int64_t room, int64_t after, const Moderation& moderation) {
  if (conn->FindSeat(room)) {
    conn->SendErrorFrame("already_joined", "you are already in room " + std::to_string(room));
    return;
  }
  const int max_rooms = loop_->services().config.connections.max_rooms_per_connection;
  if (conn->seats().size() >= static_cast<size_t>(max_rooms)) {
    conn->SendErrorFrame("too_many_rooms", "a connection may be in " + std::to_string(max_rooms) +
                                               " rooms at most: leave one first");
    return;
  }
  Seat seat;
  seat.room = room;
  seat.last_pos = std::max<int64_t>(after, 0);
  seat.join_after = after;
  conn->seats().push_back(std::move(seat));
  Room& r = rooms_[room];
  r.members.push_back(conn);
  r.moderation = moderation;
  loop_->users().EnteredRoom(conn, room);
  uint64_t id = conn->id();
  WhenSubscribed(room, [this, id, room, after] { CatchUp(id, room, after, true); });
}

void RoomHub::WhenSubscribed(int64_t room, std::function<void()> then) {
  Room& r = rooms_[room];
  if (r.subscribed) {
    then();
    return;
  }
  bool first = r.on_subscribed.empty();
  r.on_subscribed.push_back(std::move(then));
  // A room being unsubscribed is subscribed again once Redis confirms that (OnUnsubscribed).
  if (first && !unsubscribing_.count(room)) loop_->redis().Subscribe(RoomChannel(loop_->redis_prefix(), room));
}

void RoomHub::OnUnsubscribed(std::string_view channel) {
  const int64_t room = RoomFromChannel(channel);
  unsubscribing_.erase(room);
  auto it = rooms_.find(room);
  if (it != rooms_.end() && !it->second.on_subscribed.empty())
    loop_->redis().Subscribe(RoomChannel(loop_->redis_prefix(), room));
}

void RoomHub::OnSubscribed(std::string_view channel) {
  auto it = rooms_.find(RoomFromChannel(channel));
  if (it == rooms_.end()) return;
  it->second.subscribed = true;
  auto waiting = std::move(it->second.on_subscribed);
  it->second.on_subscribed.clear();
  for (auto& then : waiting) then();
}

size_t RoomHub::ShardOf(int64_t room) const {
  const RedisLinks& redis = loop_->redis();
  return redis.shards() == 1 ? 0 : redis.ShardOf(RoomChannel(loop_->redis_prefix(), room));
}

void RoomHub::OnSubscriberLost(size_t shard) {
  ++epochs_[shard];
  // The shard's next subscriber connection starts with no subscription.
  std::erase_if(unsubscribing_, [&](int64_t room) { return ShardOf(room) == shard; });
  for (auto& [room, r] : rooms_) {
    if (ShardOf(room) != shard) continue;
    r.subscribed = false;
    r.head_known = false;  // what is published until the resubscription is confirmed never arrives
    r.on_subscribed.clear();
    r.head_waiters.clear();
  }
}

void RoomHub::ResubscribeAll(size_t shard) {
  for (auto& [room, r] : rooms_) {
    if (ShardOf(room) != shard) continue;
    // The catch-ups queued while the subscriber was away go: a member who left since needs none, and
    // one left queued would keep the next join from subscribing (WhenSubscribed subscribes for the
    // first waiter only). Frames published meanwhile never reached this loop: every seat still here
    // catches up (again) once subscribed.
    r.on_subscribed.clear();
    if (r.members.empty()) continue;
    for (Connection* c : r.members) {
      Seat* seat = c->FindSeat(room);
      if (!seat) continue;
      seat->catching_up = true;
      uint64_t id = c->id();
      int64_t room_id = room;
      int64_t after = seat->joined ? seat->last_pos : seat->join_after;
      r.on_subscribed.push_back([this, id, room_id, after, announce = !seat->joined] {
        CatchUp(id, room_id, after, announce);
      });
    }
    loop_->redis().Subscribe(RoomChannel(loop_->redis_prefix(), room));
  }
}

void RoomHub::CatchUp(uint64_t conn_id, int64_t room_id, int64_t after, bool announce) {
  Room& r = rooms_[room_id];
  int64_t known = KnownPosition(room_id);
  if (r.head_known && (after < 0 || after >= known)) {
    fetch_none.Add();
    Deliver(conn_id, room_id, {}, known, announce);
    return;
  }
  const size_t shard = ShardOf(room_id);
  const uint64_t epoch = epochs_[shard];
  if (after < 0) {  // a first join (announce); a storm of them reads the head once
    r.head_waiters.push_back(conn_id);
    if (r.head_waiters.size() > 1) {
      fetch_none.Add();
      return;
    }
    Fetch(room_id, -1, [this, room_id, shard, epoch](Status s, Frames, int64_t head, bool exact) {
      if (epoch != epochs_[shard]) return;  // the subscriber was lost meanwhile: ResubscribeAll took over
      Room& r = rooms_[room_id];
      std::vector<uint64_t> waiters;
      waiters.swap(r.head_waiters);
      Learn(r, s, head, exact);
      for (uint64_t id : waiters) Finish(id, room_id, s, {}, head, true);
    });
    return;
  }
  Connection* c = loop_->FindConnection(conn_id);
  Seat* seat = c ? c->FindSeat(room_id) : nullptr;
  if (!seat) return;
  seat->replay_waiting = !c->StartReplay();
  if (seat->replay_waiting) {  // another replay holds the connection's turn: this one waits for it
    seat->replay_after = after;
    seat->replay_announce = announce;
    replays_waited.Add();
    return;
  }
  Fetch(room_id, after, [this, conn_id, room_id, announce, shard, epoch](Status s, Frames frames, int64_t head,
                                                                          bool exact) {
    if (epoch == epochs_[shard]) {
      Learn(rooms_[room_id], s, head, exact);
      Finish(conn_id, room_id, s, frames, head, announce);
    }
    // Sent, refused, or dropped with its epoch (ResubscribeAll gave the seat a new catch-up).
    if (Connection* c = loop_->FindConnection(conn_id)) c->ReplayDone();
  });
}

// In join order. A catch-up that needs no read after all (the head became known meanwhile) is
// answered at once and leaves the turn free for the next.
void RoomHub::NextReplay(Connection* conn) {
  for (size_t i = 0; i < conn->seats().size() && !conn->Replaying(); ++i) {
    Seat& seat = conn->seats()[i];
    if (!seat.replay_waiting) continue;
    seat.replay_waiting = false;
    CatchUp(conn->id(), seat.room, seat.replay_after, seat.replay_announce);
  }
}

// Every catch-up reads after its subscription was confirmed (WhenSubscribed) and within the same
// epoch, so an exact head it read makes the room's head known (see the header).
void RoomHub::Learn(Room& r, const Status& s, int64_t head, bool exact) {
  if (!s.ok() || !exact) return;
  r.head = std::max(r.head, head);
  if (r.subscribed) r.head_known = true;
}

void RoomHub::Finish(uint64_t conn_id, int64_t room, const Status& s, const Frames& frames, int64_t head,
                     bool announce) {
  Connection* c = loop_->FindConnection(conn_id);
  if (!c || !c->FindSeat(room)) return;
  if (!s.ok()) {
    Status shown = ForClient(s);
    c->SendErrorFrame(shown.name(), "could not join room " + std::to_string(room) + ": " + shown.detail());
    Unseat(c, room);
    return;
  }
  Deliver(conn_id, room, frames, head, announce);
}

// Reads what a room holds after position `after`: from the Redis history list when it reaches back
// far enough, else from PostgreSQL. `head` is the room's latest position known to storage; it is
// exact unless a replay stopped at --replay-limit.
void RoomHub::Fetch(int64_t room, int64_t after, Fetched done) {
  loop_->redis().Command({"LRANGE", RoomHistoryKey(loop_->redis_prefix(), room), "0", "-1"},
                         [this, room, after, done = std::move(done)](redisReply* reply) mutable {
    Frames cached;  // oldest first
    if (reply && reply->type == REDIS_REPLY_ARRAY)
      for (size_t i = reply->elements; i-- > 0;) {
        std::string_view f(reply->element[i]->str, reply->element[i]->len);
        cached.emplace_back(FramePosition(f), std::string(f));
      }
    if (!cached.empty()) {
      int64_t head = cached.back().first;
      if (after < 0 || head <= after) {
        fetch_redis.Add();
        return done(Status::Ok(), {}, head, true);
      }
      if (cached.front().first <= after + 1) {
        Frames newer;
        for (auto& f : cached)
          if (f.first > after) newer.push_back(std::move(f));
        fetch_redis.Add();
        return done(Status::Ok(), std::move(newer), head, true);
      }
    }
    // The list is empty (new room, Redis restarted) or does not reach back to `after`.
    fetch_pg.Add();
    int limit = loop_->services().config.replay_limit;
    // Rows the tag worker has not tagged yet get the tags ingress gave them (room_tags.h), by the
    // room's moderation as its latest join found it. A room forgotten meanwhile has no seat to read for.
    const Tagger* tagger = loop_->services().tagger.get();
    auto known = rooms_.find(room);
    std::optional<Moderation> moderation;
    if (known != rooms_.end()) moderation = known->second.moderation;
    RunOnDb<StoredFrames>(
        loop_->tasks(), loop_->db(),
        [room, after, limit, tagger, moderation](PgConn& pg) -> Result<StoredFrames> {
          StoredFrames read;
          if (after < 0) {
            auto newest = MessagesBefore(pg, room, 0, 1);
            if (!newest.ok()) return newest.status();
            if (!newest->empty()) read.head = newest->front().pos;
            return read;
          }
          auto rows = MessagesAfter(pg, room, after, limit);
          if (!rows.ok()) return rows.status();
          if (moderation) TagUntaggedRows(*tagger, *moderation, &*rows);
          for (const auto& m : *rows) read.frames.emplace_back(m.pos, EncodeMessageFrame(m));
          read.exact = read.frames.size() < static_cast<size_t>(limit);  // it read up to the end
          read.head = read.frames.empty() ? after : read.frames.back().first;
          if (read.frames.empty()) {  // `after` is at or above the head: which is it?
            auto newest = MessagesBefore(pg, room, 0, 1);
            if (!newest.ok()) return newest.status();
            read.head = newest->empty() ? 0 : newest->front().pos;
          }
          return read;
        },
        [done = std::move(done)](Result<StoredFrames> read) {
          if (!read.ok()) return done(read.status(), {}, 0, false);
          done(Status::Ok(), std::move(read->frames), read->head, read->exact);
        });
  });
}

void RoomHub::Deliver(uint64_t conn_id, int64_t room, const Frames& frames, int64_t head, bool announce) {
  Connection* c = loop_->FindConnection(conn_id);
  Seat* seat = c ? c->FindSeat(room) : nullptr;
  if (!seat) return;
  announce = announce && !seat->joined;  // a catch-up redone after a Redis reconnect announces once
  if (announce) {
    seat->joined = true;
    loop_->users().Announced(c, room);
    c->SendText(JoinedFrame(room, head));
    if (seat->join_after < 0) seat->last_pos = std::max(seat->last_pos, head);  // no "after": from now
  }
  size_t backlog = 0;
  for (const auto& [pos, frame] : frames) backlog += frame.size() + ws::kMaxFrameHeader;
  for (const HeldFrame& h : seat->held) backlog += h.size;
  c->AllowBacklog(backlog);
  for (const auto& [pos, frame] : frames) {
    if (pos <= seat->last_pos) continue;
    c->SendText(frame);
    seat->last_pos = pos;
    deliveries.Add();
  }
  for (const HeldFrame& h : seat->held) {
    if (h.pos == 0 || h.pos > seat->last_pos) {
      c->SendEncoded(h.batch->bytes().substr(h.offset, h.size));
      if (h.pos) seat->last_pos = h.pos;
      deliveries.Add();
    }
  }
  ReleaseHeld(c, seat);
  if (announce) NotePresence(c, room, true);
  if (!seat->held_dropped) {
    seat->catching_up = false;
    return;
  }
  // What was dropped is in storage (it was published, so stored): read on from what was just sent.
  seat->held_dropped = false;
  CatchUp(conn_id, room, seat->last_pos, false);
}

void RoomHub::Hold(Connection* conn, Seat* seat, SharedFrame* batch, const BatchFrame& frame) {
  if (seat->held_dropped) return;
  const size_t cost = frame.size + sizeof(HeldFrame);
  if (conn->held_bytes() + cost > loop_->services().config.max_output_bytes) {
    held_dropped.Add();
    ReleaseHeld(conn, seat);
    seat->held_dropped = true;
    return;
  }
  batch->Ref();
  seat->held.push_back({frame.pos, batch, frame.offset, frame.size});
  conn->held_bytes() += cost;
}

void RoomHub::ReleaseHeld(Connection* conn, Seat* seat) {
  for (const HeldFrame& h : seat->held) {
    conn->held_bytes() -= h.size + sizeof(HeldFrame);
    h.batch->Unref();
  }
  seat->held.clear();
}

void RoomHub::OnChannelMessage(std::string_view channel, std::string_view payload) {
  OnRoomFrame(RoomFromChannel(channel), payload);
}

int64_t RoomHub::KnownPosition(int64_t room) const {
  auto it = rooms_.find(room);
  return it == rooms_.end() ? 0 : std::max(it->second.last_pos, it->second.head);
}

void RoomHub::OnRoomFrame(int64_t room_id, std::string_view payload) {
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return;
  Room& room = it->second;
  FrameHead head;
  const bool message = ReadFrameHead(payload, &head);
  const int64_t pos = message ? head.pos : 0;
  if (room.members.empty()) {  // still subscribed: keep the known head current for the next join
    room.last_pos = std::max(room.last_pos, pos);
    return;
  }
  if (pos > 0) {
    if (pos <= room.last_pos) {
      duplicates.Add();
      return;
    }
    room.last_pos = pos;
  }
  if (room.batch_frames.empty()) {
    dirty_.push_back(room_id);
    loop_->ScheduleFlush();
  }
  uint8_t header[ws::kMaxFrameHeader];
  size_t n = ws::EncodeFrameHeader(ws::Opcode::kText, payload.size(), true, nullptr, header);
  room.batch_frames.push_back(
      {pos, room.batch.size(), n + payload.size(), std::chrono::steady_clock::now(), message ? StampMs(head) : 0});
  room.batch.append(reinterpret_cast<const char*>(header), n);
  room.batch.append(payload);
}

void RoomHub::Flush() {
  std::vector<int64_t> dirty;
  dirty.swap(dirty_);
  for (int64_t id : dirty) {
    auto it = rooms_.find(id);
    if (it != rooms_.end()) FlushRoom(id, it->second);
  }
}

// Positions rise within a batch (OnRoomFrame drops the rest), so a seat that has none of them, the
// usual case, takes the whole batch in one append; a seat whose catch-up overlapped it takes the
// frames it lacks one by one, and a seat still catching up holds them for Deliver.
void RoomHub::FlushRoom(int64_t room_id, Room& room) {
  int64_t first_pos = 0, last_pos = 0;
  for (const BatchFrame& f : room.batch_frames) {
    if (!f.pos) continue;
    if (!first_pos) first_pos = f.pos;
    last_pos = f.pos;
  }
  SharedFrame* all = SharedFrame::Copy(room.batch);
  int64_t sent = 0;
  // A send can drop a slow reader; that only schedules its removal, so `members` stays intact here.
  for (Connection* c : room.members) {
    Seat* seat = c->FindSeat(room_id);
    if (!seat) continue;
    if (!seat->catching_up && (!first_pos || seat->last_pos < first_pos)) {
      c->SendShared(all);
      seat->last_pos = std::max(seat->last_pos, last_pos);
      sent += static_cast<int64_t>(room.batch_frames.size());
      continue;
    }
    for (const BatchFrame& f : room.batch_frames) {
      std::string_view bytes(room.batch.data() + f.offset, f.size);
      if (seat->catching_up) {
        Hold(c, seat, all, f);
        continue;
      }
      if (f.pos && f.pos <= seat->last_pos) continue;
      c->SendEncoded(bytes);
      if (f.pos) seat->last_pos = f.pos;
      ++sent;
    }
  }
  all->Unref();
  deliveries.Add(sent);
  for (const BatchFrame& f : room.batch_frames)
    if (f.pos) flushed_.push_back(f);
  room.batch.clear();
  room.batch_frames.clear();
  if (room.batch.capacity() > kBatchKeep) std::string().swap(room.batch);
}

void RoomHub::NoteWritten() {
  if (flushed_.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  const int64_t now_ms = static_cast<int64_t>(NowMs());
  for (const BatchFrame& f : flushed_) {
    fanout_time.Observe(now - f.arrived);
    if (f.stamp_ms) server_time.Observe((now_ms - f.stamp_ms) * 1000);
  }
  flushed_.clear();
}

void RoomHub::NotePresence(Connection* conn, int64_t room_id, bool joined) {
  UserHub& users = loop_->users();
  const UserRef user{conn->user().id, conn->user().name};
  // Another of the user's connections here is in the room (this one's seat is counted, announced
  // and not yet gone): the user is there either way.
  if (users.JoinedSeats(user.id, room_id) > 1) return;
  users.ChangePresence(user.id, room_id, joined, [this, user, room_id, joined](bool changed) {
    if (changed) Gather(room_id, {user.id, user.name, joined});
  });
}

void RoomHub::Gather(int64_t room_id, PresenceChange change) {
  Room& r = rooms_[room_id];
  if (r.presence.empty()) presence_rooms_.push_back(room_id);
  r.presence.push_back(std::move(change));
  if (presence_tick_) return;
  presence_tick_ = true;
  // A one-shot event: libevent frees it once it has run, or with the event_base if the loop ends first.
  timeval interval{0, kPresenceIntervalMs * 1000};
  if (event_base_once(loop_->base(), -1, EV_TIMEOUT, &RoomHub::OnPresenceTick, this, &interval) != 0)
    PublishPresence();
}

void RoomHub::OnPresenceTick(int, short, void* arg) { static_cast<RoomHub*>(arg)->PublishPresence(); }

void RoomHub::PublishPresence() {
  presence_tick_ = false;
  std::vector<int64_t> rooms;
  rooms.swap(presence_rooms_);
  for (int64_t room : rooms) {
    std::vector<PresenceChange> changes;
    changes.swap(rooms_[room].presence);
    std::string frame = PresenceFrame(room, changes);
    if (frame.empty()) continue;
    presence_frames.Add();
    loop_->redis().Command({"PUBLISH", RoomChannel(loop_->redis_prefix(), room), std::move(frame)}, [](redisReply*) {});
  }
  DropIdleRooms();  // rooms whose last leave was waiting to be published
}

void RoomHub::Leave(Connection* conn, int64_t room) {
  if (!conn->FindSeat(room)) {
    conn->SendErrorFrame("not_joined", "you are not in room " + std::to_string(room));
    return;
  }
  if (conn->FindSeat(room)->joined) NotePresence(conn, room, false);
  Unseat(conn, room);
}

void RoomHub::LeaveAll(Connection* conn) {
  while (!conn->seats().empty()) {
    int64_t room = conn->seats().back().room;
    if (conn->seats().back().joined) NotePresence(conn, room, false);
    Unseat(conn, room);
  }
}

void RoomHub::Unseat(Connection* conn, int64_t room) {
  auto& seats = conn->seats();
  for (size_t i = 0; i < seats.size(); ++i) {
    if (seats[i].room != room) continue;
    ReleaseHeld(conn, &seats[i]);
    const bool joined = seats[i].joined;
    seats.erase(seats.begin() + static_cast<long>(i));
    loop_->users().LeftRoom(conn, room, joined);
    break;
  }
  auto it = rooms_.find(room);
  if (it == rooms_.end()) return;
  auto& members = it->second.members;
  members.erase(std::remove(members.begin(), members.end(), conn), members.end());
  // The loop stays subscribed when the room empties, so a member who comes back (a reload, a
  // reconnect) finds the subscription and the known head still there; but only for the
  // --max-idle-rooms rooms that emptied last, so a client walking through rooms cannot leave the
  // loop subscribed to all of them.
  if (!members.empty()) return;
  it->second.emptied = ++emptied_;
  DropIdleRooms();
}

size_t RoomHub::idle_room_count() const {
  return static_cast<size_t>(std::count_if(rooms_.begin(), rooms_.end(), [](const auto& r) { return r.second.Idle(); }));
}

// One pass over the loop's rooms when one empties or presence went out: rooms in use plus
// --max-idle-rooms, a few thousand at most, and far rarer than messages.
void RoomHub::DropIdleRooms() {
  std::vector<std::unordered_map<int64_t, Room>::iterator> idle;
  for (auto it = rooms_.begin(); it != rooms_.end(); ++it)
    if (it->second.Idle()) idle.push_back(it);
  const size_t keep = static_cast<size_t>(loop_->services().config.connections.max_idle_rooms);
  if (idle.size() <= keep) return;
  const size_t drop = idle.size() - keep;
  std::nth_element(idle.begin(), idle.begin() + static_cast<long>(drop - 1), idle.end(),
                   [](const auto& a, const auto& b) { return a->second.emptied < b->second.emptied; });
  for (size_t i = 0; i < drop; ++i) {
    if (idle[i]->second.subscribed) {
      unsubscribing_.insert(idle[i]->first);
      loop_->redis().Unsubscribe(RoomChannel(loop_->redis_prefix(), idle[i]->first));
    }
    rooms_.erase(idle[i]);
  }
}

}  // namespace chatpipe
