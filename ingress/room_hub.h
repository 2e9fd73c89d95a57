// RoomHub: the rooms of one loop — who is in each, and the fan-out of each room's channel to them.
//
// uWebSockets' shape, corked: the frames a room receives during one loop iteration are encoded once,
// back to back, into the room's batch; at the end of the iteration the batch goes to every seat in
// one append (SharedFrame), so a hot room costs one append per member per iteration, not per
// message, and each socket is written once per iteration with everything it was sent. A seat is one
// connection in one room; it remembers the last position it was sent, so a frame seen twice (a
// persister replaying a batch, a catch-up overlapping live traffic) reaches a client once and in
// order. Joining subscribes the loop to the room's Redis channel if it is not yet; only once Redis
// confirms does the seat catch up from storage (history list, else PostgreSQL), holding the live
// frames that arrive meanwhile, so nothing falls between the catch-up and the live stream.
//
// The known head. Once the subscription is confirmed and a catch-up has read the room's head H from
// storage after that, every message above H reaches this loop live: the persister stores a message
// (PostgreSQL, then the history list) before it PUBLISHes it, so one that storage did not hold when
// the catch-up read it is published after the read, hence after the SUBSCRIBE, and Redis delivers it.
// From then on the room's head is max(H, the highest position that arrived live) (KnownPosition),
// until the subscriber connection is lost. A join with no `after`, or with `after` at or above it,
// needs no read at all: "joined" carries the known head and the live stream does the rest. A message
// in storage whose PUBLISH has not reached the loop yet is covered either way: above the known head,
// it arrives live like any later one; at or below it, the seat starts above it, as it would after a
// read of its own that saw it. Only an exact head counts (a replay cut at --replay-limit is not).
// A catch-up that reads after `after` (a replay) goes one at a time per connection: the next one
// waits, in its seat, until the previous replay's output has drained (Connection::StartReplay), so
// a client that joins many rooms with "after" holds one replay in the ingress, not one per room.
// Joins that wait for a room's first head share one read. A catch-up begun before the subscriber was
// lost is dropped when it completes (its shard's epoch moved on): ResubscribeAll gives every seat of the
// shard's rooms a new one.
//
// Presence. Joins and leaves are not published one by one: each loop gathers them per room and
// publishes one presence frame per room per kPresenceIntervalMs at most (a reconnect storm of N
// members would otherwise cost every member N frames, N squared in all), carrying each user's net
// change over the interval. Every loop with members in the room, on any process, fans it out.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/moderation.h"
#include "common/status.h"

namespace chatpipe {

class Connection;
class Loop;
class SharedFrame;

// A live frame held for a seat that is catching up: a slice of a room's batch, shared by every seat
// holding it (a reconnect storm holds each frame once, not once per seat). Holds one reference.
struct HeldFrame {
  int64_t pos;
  SharedFrame* batch;
  size_t offset;
  size_t size;
};

struct Seat {
  int64_t room = 0;
  int64_t last_pos = 0;        // highest message position sent to this seat
  int64_t join_after = -1;     // the join's "after" (-1: none), until "joined" is sent
  bool joined = false;         // "joined" was sent
  bool catching_up = true;
  // Its catch-up must read, and waits for the connection's replay under way (RoomHub::NextReplay).
  bool replay_waiting = false;
  bool replay_announce = false;
  int64_t replay_after = 0;
  std::vector<HeldFrame> held;  // live frames that arrived while catching up
  // Live frames went unheld past the connection's budget (RoomHub::Hold): its catch-up reads again.
  bool held_dropped = false;
};

// A join (true) or leave of one of a loop's connections, waiting for its room's next presence frame.
struct PresenceChange {
  int64_t user;
  std::string name;
  bool joined;
};

// The presence frame for a room's changes over one interval, oldest first:
// {"type":"presence","room":R,"joined":[{"id":..,"name":..},...],"left":[...]}. Each user counts by
// net effect, joins minus leaves (a connection is one of each): a user who joined and left again, or
// left and came back, is in neither list; one whose change did not cancel out is in one list, once.
// Empty when nothing is left to say.
std::string PresenceFrame(int64_t room, const std::vector<PresenceChange>& changes);

// How long a loop gathers a room's joins and leaves before it publishes them. Every member of the
// room receives one frame per loop with changes per interval, so this bounds presence traffic in a
// join storm; 200 ms is below what a reader notices of "bob joined" and holds hundreds of a storm's
// joins. The first change of a quiet room waits for the interval as well: one timer per loop, and a
// strict bound of one frame per room and loop per interval.
inline constexpr int kPresenceIntervalMs = 200;

class RoomHub {
 public:
  explicit RoomHub(Loop* loop);
  ~RoomHub();

  // Seats `conn` in `room` and sends it what it missed after position `after` (after < 0: nothing,
  // start from the room's current position), preceded by a "joined" frame. Errors go to `failed`.
  // `moderation` is the room's (RoomAccess): a replay read from PostgreSQL tags the rows the tag
  // worker has not tagged yet as ingress did (room_tags.h).
  void Join(Connection* conn, int64_t room, int64_t after, const Moderation& moderation);
  void Leave(Connection* conn, int64_t room);
  void LeaveAll(Connection* conn);

  // From the loop's subscriber connection.
  void OnChannelMessage(std::string_view channel, std::string_view payload);
  // A frame of `room`'s channel, from Redis or (--short-circuit) from this process.
  void OnRoomFrame(int64_t room, std::string_view payload);
  // The highest position of `room` this loop has fanned out or seen as a catch-up's head.
  int64_t KnownPosition(int64_t room) const;
  void OnSubscribed(std::string_view channel);
  void OnUnsubscribed(std::string_view channel);
  // The subscriber of a Redis shard was lost: the seats of its rooms catch up once their subscriptions
  // are confirmed again (ResubscribeAll), and the other shards' rooms go on.
  void OnSubscriberLost(size_t shard);
  void ResubscribeAll(size_t shard);
  // `conn`'s replay is over (Connection::EndReplay): the catch-up of its first waiting seat goes.
  void NextReplay(Connection* conn);

  // Sends each room's batch of this iteration to its seats (from the loop's end-of-iteration flush).
  void Flush();
  // The flush has written to the sockets: counts the hops "fanout" (arrival here to written) and
  // "server" (ingress stamp to written) of every message frame Flush sent.
  void NoteWritten();
  // Publishes the presence frames gathered so far: from the interval's timer, and from a stopping
  // loop once its WebSockets have left their rooms (Loop::Stop).
  void PublishPresence();

  size_t room_count() const { return rooms_.size(); }
  size_t idle_room_count() const;  // rooms nobody here is in, still known (and subscribed)

 private:
  struct BatchFrame {
    int64_t pos;  // 0: a frame without a position (presence), sent to every seat
    size_t offset;
    size_t size;
    std::chrono::steady_clock::time_point arrived;
    int64_t stamp_ms;  // a message's ingress stamp (from its id); 0 for other frames
  };
  struct Room {
    bool subscribed = false;
    std::vector<Connection*> members;
    std::vector<std::function<void()>> on_subscribed;
    int64_t last_pos = 0;  // highest position that arrived on the channel
    int64_t head = 0;      // highest exact head a catch-up read from storage
    bool head_known = false;  // KnownPosition is the room's head (see the comment at the top)
    std::vector<uint64_t> head_waiters;  // connections whose join waits for the head read in flight
    std::vector<PresenceChange> presence;  // this interval's joins and leaves, oldest first
    std::string batch;     // encoded frames that arrived this iteration, oldest first
    std::vector<BatchFrame> batch_frames;
    uint64_t emptied = 0;  // when its last member left (RoomHub::emptied_), to drop the longest empty
    Moderation moderation;  // as the latest join found it
    // Nobody is in it, and nothing waits on it: it may be unsubscribed and forgotten.
    bool Idle() const {
      return members.empty() && on_subscribed.empty() && head_waiters.empty() && presence.empty() &&
             batch_frames.empty();
    }
  };
  using Frames = std::vector<std::pair<int64_t, std::string>>;  // (pos, frame), oldest first

  void FlushRoom(int64_t room_id, Room& room);
  void WhenSubscribed(int64_t room, std::function<void()> then);
  // `exact`: `head` is storage's head at the time of the read (not a limited replay's last row).
  using Fetched = std::function<void(Status, Frames, int64_t head, bool exact)>;
  void CatchUp(uint64_t conn_id, int64_t room, int64_t after, bool announce);
  void Fetch(int64_t room, int64_t after, Fetched done);
  void Learn(Room& r, const Status& s, int64_t head, bool exact);
  void Finish(uint64_t conn_id, int64_t room, const Status& s, const Frames& frames, int64_t head, bool announce);
  void Deliver(uint64_t conn_id, int64_t room, const Frames& frames, int64_t head, bool announce);
  // A connection's join was announced, or an announced one left: gathered for the room's next
  // presence frame if it changes the user's presence (UserHub::ChangePresence).
  void NotePresence(Connection* conn, int64_t room, bool joined);
  void Gather(int64_t room, PresenceChange change);
  static void OnPresenceTick(int, short, void* arg);
  void Unseat(Connection* conn, int64_t room);
  // Holds a live frame for `seat`, catching up, within the connection's --max-output bytes held
  // across its seats. Past that the seat's held frames go (a client that joins many busy rooms and
  // never reads would otherwise hold them all); its catch-up then reads them from storage again.
  void Hold(Connection* conn, Seat* seat, SharedFrame* batch, const BatchFrame& frame);
  void ReleaseHeld(Connection* conn, Seat* seat);
  // Beyond --max-idle-rooms rooms nobody is in, unsubscribes those that have been empty longest.
  void DropIdleRooms();
  int64_t RoomFromChannel(std::string_view channel) const;
  size_t ShardOf(int64_t room) const;  // the Redis shard of the room's channel

  Loop* loop_;
  std::unordered_map<int64_t, Room> rooms_;
  std::vector<int64_t> dirty_;  // rooms with a batch to flush
  std::vector<BatchFrame> flushed_;  // the message frames Flush sent, until NoteWritten
  std::vector<uint64_t> epochs_;  // per Redis shard, its subscriber connections lost so far: older catch-ups are void
  std::vector<int64_t> presence_rooms_;  // rooms with presence changes gathered
  bool presence_tick_ = false;  // the interval's timer is set
  uint64_t emptied_ = 0;        // rooms that became empty so far
  std::unordered_set<int64_t> unsubscribing_;  // UNSUBSCRIBE sent, not confirmed: a SUBSCRIBE waits
};

}  // namespace chatpipe
