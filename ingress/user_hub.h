// UserHub: the WebSocket users of one loop — the Redis channel of each, and their presence.
//
// Each loop subscribes to <p>user:<id> while a user has a WebSocket on it (and unsubscribes when their
// last one goes, so the channels follow the users here now, not every user ever seen) and forwards what
// arrives there (the mention worker's "notification" frames) to all of that user's connections, encoded
// once; a logout's "session_ended" there closes that session's connections instead (4001). A logout
// published before Redis confirmed the loop's subscription never arrives here, so each connection's
// session is checked once more when it is in the hub and the channel is confirmed (CheckSession). It also
// keeps the presence the workers read: <p>online:<uid> (this loop's member, scored by expiry) while
// the user has a connection here, and <p>room:<id>:present (the user id) while one of
// their connections here is in the room. Entries are refreshed every third of kPresenceTtlMs, so a
// crashed process's users read as offline within kPresenceTtlMs; a clean close removes them at once.
// And it says when a user's presence in a room changes for the whole deployment, for the presence
// frames: <p>room:<id>:user:<uid> holds the loops where the user has a joined connection in the room,
// so a user with two tabs (on any loops or processes) joins with the first and leaves with the last.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

struct event;

namespace chatpipe {

class Connection;
class Loop;

class UserHub {
 public:
  explicit UserHub(Loop* loop) : loop_(loop) {}

  void Start();  // the refresh timer, on the loop's event_base
  void Stop();   // frees it; before the event_base goes
  void Add(Connection* conn);
  void Remove(Connection* conn);
  void EnteredRoom(Connection* conn, int64_t room);
  // After the seat is gone; `joined`: it had been announced (Announced).
  void LeftRoom(Connection* conn, int64_t room, bool joined);
  // `conn`'s seat in `room` was announced: "joined" was sent (RoomHub::Deliver).
  void Announced(const Connection* conn, int64_t room);
  // This loop's connections of `user` with an announced seat in `room`. Counted, not searched: a
  // user with a thousand connections joining and leaving costs a lookup each, not a walk over them all.
  int JoinedSeats(int64_t user, int64_t room) const;
  // This loop's first joined connection of `user` in `room` came (joined) or its last one went:
  // `done(true)` when no other loop had the user there (or Redis could not tell: better a line too
  // many than a user who never appears).
  void ChangePresence(int64_t user, int64_t room, bool joined, std::function<void(bool changed)> done);

  // A frame on a user channel: true if the channel is one (and it was forwarded).
  bool OnChannelMessage(std::string_view channel, std::string_view payload);
  // Redis confirmed a SUBSCRIBE: true if of a user channel (its connections' sessions are checked).
  bool OnSubscribed(std::string_view channel);
  // Redis confirmed an UNSUBSCRIBE: true if of a user channel (subscribed again if the user came back).
  bool OnUnsubscribed(std::string_view channel);
  void ResubscribeAll(size_t shard);  // the users whose channels that Redis shard holds

 private:
  static void OnRefresh(int, short, void* arg);
  void Refresh();
  std::string Member() const;
  // Closes `conn` (4001) if its session was ended: a logout whose "session_ended" this loop missed.
  void CheckSession(Connection* conn);
  // The user of a channel of this namespace, or 0 if it is not a user channel.
  int64_t UserOfChannel(std::string_view channel) const;

  Loop* loop_;
  std::unordered_map<int64_t, std::vector<Connection*>> users_;
  struct Seats {
    int seated = 0;  // connections of the user here with a seat in the room
    int joined = 0;  // ... of which announced
  };
  std::map<std::pair<int64_t, int64_t>, Seats> seats_;  // by (user, room)
  std::unordered_set<int64_t> subscribed_;  // user channels this loop has subscribed
  std::unordered_set<int64_t> confirmed_;   // ... and Redis confirmed: every later logout arrives here
  // UNSUBSCRIBEs Redis has not confirmed: a user coming back meanwhile is subscribed again only after
  // the confirmation, or hiredis could drop the new subscription with the old (RedisLinks::Unsubscribe).
  std::unordered_set<int64_t> unsubscribing_;
  event* refresh_ = nullptr;
};

}  // namespace chatpipe
