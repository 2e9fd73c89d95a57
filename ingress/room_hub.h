// RoomHub: the rooms of one loop — who is in each, and the fan-out of each room's channel to them.
//
// uWebSockets' shape, corked: the frames a room receives during one loop iteration are encoded once,
// back to back, into the room's batch; at the end of the iteration the batch goes to every seat in
// one append (SharedFrame), so a hot room costs one append per member per iteration, not per
// message, and each socket is written once per iteration with everything it was sent. A seat A seat is one connection in one room; it remembers the last position it was sent, so a frame
// seen twice (a persister replaying a batch, a catch-up overlapping live traffic) reaches a client
// once and in order. Joining subscribes the loop to the room's Redis channel if it is not yet; only
// once Redis confirms does the seat catch up from storage (history list, else PostgreSQL), holding
// the live frames that arrive meanwhile, so nothing falls between the catch-up and the live stream.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

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
  std::vector<HeldFrame> held;  // live frames that arrived while catching up
};

// The position of a message frame (EncodeMessageFrame's fixed prefix), or 0 for other frames.
int64_t FramePosition(std::string_view frame);

class RoomHub {
 public:
  explicit RoomHub(Loop* loop) : loop_(loop) {}
  ~RoomHub();

  // Seats `conn` in `room` and sends it what it missed after position `after` (after < 0: nothing,
  // start from the room's current position), preceded by a "joined" frame. Errors go to `failed`.
  void Join(Connection* conn, int64_t room, int64_t after);
  void Leave(Connection* conn, int64_t room);
  void LeaveAll(Connection* conn);

  // From the loop's subscriber connection.
  void OnChannelMessage(std::string_view channel, std::string_view payload);
  // A frame of `room`'s channel, from Redis or (--short-circuit) from this process.
  void OnRoomFrame(int64_t room, std::string_view payload);
  // The highest position of `room` this loop has fanned out or seen as a catch-up's head.
  int64_t KnownPosition(int64_t room) const;
  void OnSubscribed(std::string_view channel);
  void OnSubscriberLost();  // everyone will catch up once subscriptions are confirmed again
  void ResubscribeAll();

  // Sends each room's batch of this iteration to its seats (from the loop's end-of-iteration flush).
  void Flush();

  size_t room_count() const { return rooms_.size(); }

 private:
  struct BatchFrame {
    int64_t pos;  // 0: a frame without a position (presence), sent to every seat
    size_t offset;
    size_t size;
  };
  struct Room {
    bool subscribed = false;
    std::vector<Connection*> members;
    std::vector<std::function<void()>> on_subscribed;
    int64_t last_pos = 0;  // highest position fanned out on this loop
    int64_t head = 0;      // highest head a catch-up read from storage
    std::string batch;     // encoded frames that arrived this iteration, oldest first
    std::vector<BatchFrame> batch_frames;
  };
  using Frames = std::vector<std::pair<int64_t, std::string>>;  // (pos, frame), oldest first

  void FlushRoom(int64_t room_id, Room& room);
  void WhenSubscribed(int64_t room, std::function<void()> then);
  void CatchUp(uint64_t conn_id, int64_t room, int64_t after, bool announce);
  void Fetch(int64_t room, int64_t after, std::function<void(Status, Frames, int64_t head)> done);
  void Deliver(uint64_t conn_id, int64_t room, const Frames& frames, int64_t head, bool announce);
  void PublishPresence(Connection* conn, int64_t room, const char* event);
  void Unseat(Connection* conn, int64_t room);
  int64_t RoomFromChannel(std::string_view channel) const;

  Loop* loop_;
  std::unordered_map<int64_t, Room> rooms_;
  std::vector<int64_t> dirty_;  // rooms with a batch to flush
};

}  // namespace chatpipe
