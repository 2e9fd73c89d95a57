// UserHub: the WebSocket users of one loop — the Redis channel of each, and their presence.
//
// Each loop subscribes to <p>user:<id> for every user with a WebSocket on it and forwards what
// arrives there (the mention worker's "notification" frames) to all of that user's connections, encoded
// once. It also keeps the presence the workers read: <p>online:<uid> (this loop's member, scored by
// expiry) while the user has a connection here, and <p>room:<id>:present (the user id) while one of
// their connections here is in the room. Entries are refreshed every third of kPresenceTtlMs, so a
// crashed process's users read as offline within kPresenceTtlMs; a clean close removes them at once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
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
  void LeftRoom(Connection* conn, int64_t room);  // after the seat is gone

  // A frame on a user channel: true if the channel is one (and it was forwarded).
  bool OnChannelMessage(std::string_view channel, std::string_view payload);
  void ResubscribeAll();

 private:
  static void OnRefresh(int, short, void* arg);
  void Refresh();
  std::string Member() const;
  bool SeatedElsewhere(Connection* except, int64_t user, int64_t room) const;

  Loop* loop_;
  std::unordered_map<int64_t, std::vector<Connection*>> users_;
  std::unordered_set<int64_t> subscribed_;  // user channels this loop has subscribed
  event* refresh_ = nullptr;
};

}  // namespace chatpipe
