// RoomList: one loop's side of GET /api/rooms, the list of public rooms and the caller's private ones.
//
// The list lives in Redis (<p>rooms: every room with its private members, a short TTL, dropped on
// every change), so every ingress process serves the same one and a change's author reads it back at
// once. This class spares each request the work around that one GET: it keeps the last list it
// parsed beside its raw text, so a reply with the same text reuses it (a compare, not a parse), and
// each room comes pre-rendered, so a request only picks the rooms its caller may see. When Redis has
// no list, one PostgreSQL query per loop refills it, however many requests are waiting for it, and
// caches it only if the list's generation (read with the miss, before the query) has not moved.
// Owned by its Loop, used on the loop's thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace chatpipe {

class Loop;

class RoomList {
 public:
  using Done = std::function<void(Result<std::string>)>;  // the response body, {"rooms":[...]}

  explicit RoomList(Loop* loop) : loop_(loop) {}
  void Get(int64_t user, Done done);

 private:
  struct Room {
    std::string json;              // {"id":..,"name":..,"private":..,"moderation":..}
    std::vector<int64_t> members;  // private rooms only
    bool is_private = false;
  };
  struct Waiter {
    int64_t user;
    Done done;
  };

  void Refill();
  void Refilled(Result<std::string> all);
  void Parse(std::string_view text);  // text: a JSON array as CacheText writes it
  std::string Render(int64_t user) const;

  Loop* loop_;
  std::string raw_;  // the text `rooms_` was parsed from
  std::vector<Room> rooms_;
  std::vector<Waiter> waiting_;  // requests that found no list in Redis; non-empty: a refill is on
  std::string refill_generation_;  // <p>rooms:gen as the refill's miss read it ("" when unset)
};

}  // namespace chatpipe
