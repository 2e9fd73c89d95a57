// RoomList: one loop's side of GET /api/rooms (a page of the public rooms and the caller's private
// ones, by name) and GET /api/rooms/{id} (one of them).
//
// The list lives in Redis (<p>{rooms}:list: every room with its private members, a short TTL, dropped
// on every change with its generation <p>{rooms}:gen counted up), so every ingress process serves the
// same one and a change's author reads it back at once. Each loop keeps the list parsed and indexed
// (public rooms, each user's private rooms, both in name order) with the generation it was read under,
// so a request costs one GET of the generation and a walk of the page it returns, however many rooms
// there are: the whole list is read again only when the generation moves or the copy is as old as
// the cache's TTL. When Redis has no list, one PostgreSQL query per loop refills it, however many
// requests are waiting, and caches it only if the generation (read with the miss, before the query)
// has not moved. Owned by its Loop, used on the loop's thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace chatpipe {

class Loop;

// Which page of the rooms a caller sees: names after `after`, starting with `prefix`, `limit` at most.
struct RoomPage {
  static constexpr int kDefaultLimit = 200;
  static constexpr int kMaxLimit = 500;
  std::string after;   // "": from the first name
  std::string prefix;  // "": every name
  int limit = kDefaultLimit;
};

class RoomList {
 public:
  using Done = std::function<void(Result<std::string>)>;  // the response body

  explicit RoomList(Loop* loop) : loop_(loop) {}
  // {"rooms":[...],"next":name|null}: `next` is the `after` of the next page, null on the last.
  void List(int64_t user, RoomPage page, Done done);
  // The room's object; 404 when there is none, 403 when it is private and `user` is no member.
  void Find(int64_t user, int64_t room, Done done);

 private:
  struct Room {
    std::string name;
    std::string json;  // {"id":..,"name":..,"private":..,"moderation":..}
    bool is_private = false;
  };
  using Fresh = std::function<void(Status)>;  // ok: rooms_ is current
  struct Waiter {
    std::string generation;  // what the request read: a copy older than that does not answer it
    Fresh then;
    bool again = false;  // already waited once more: answered with what comes next
  };

  void WithFreshList(Fresh then);
  void Wait(Waiter waiter);
  void Fetch(std::string generation);
  void Refill(std::string generation);
  void Finish(Status status);
  void Parse(std::string_view text);  // text: a JSON array as CacheText writes it
  std::string Render(int64_t user, const RoomPage& page) const;
  bool Visible(uint32_t index, int64_t user) const;

  Loop* loop_;
  std::vector<Room> rooms_;                                       // in byte order of their names
  std::vector<uint32_t> public_;                                  // indices of the public rooms, ascending
  std::unordered_map<int64_t, std::vector<uint32_t>> private_of_;  // a user's private rooms, ascending
  std::unordered_map<int64_t, uint32_t> by_id_;
  bool parsed_ = false;
  std::string generation_;  // <p>{rooms}:gen the copy was read under ("" when unset)
  std::chrono::steady_clock::time_point expires_;  // when Redis's copy would have expired
  std::vector<Waiter> waiting_;  // requests waiting for a fresh copy; non-empty: a fetch is on
};

}  // namespace chatpipe
