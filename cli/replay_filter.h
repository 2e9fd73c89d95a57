// Which events `chatpipe replay` keeps: those of any of the `--room`s and by any of the `--user`s (both
// must hold when both are given; no filter keeps everything).
//
// An event's room is its "room" (a number) or "room.id"; its user is "user.name" (a chat message) or
// "from.name" (a mention notification); names compare case-insensitively, as sign-in does. On a topic
// keyed by room (chat.messages) a room filter reads the key and parses nothing.
#pragma once

#include <strings.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cli/replay_format.h"

namespace chatpipe {

class ReplayFilter {
 public:
  ReplayFilter() = default;
  ReplayFilter(const std::vector<int64_t>& rooms, const std::vector<std::string>& users);

  bool empty() const { return rooms_.empty() && users_.empty(); }
  // `event` is the JSON of the event; `key` its Kafka key, which is its room when `key_is_room`.
  bool Keep(std::string_view key, std::string_view event, bool key_is_room) const;

 private:
  std::set<int64_t> rooms_;
  // Names in any case are one (ASCII, as the users table's lower(name) index).
  struct Caseless {
    bool operator()(const std::string& a, const std::string& b) const { return strcasecmp(a.c_str(), b.c_str()) < 0; }
  };
  std::set<std::string, Caseless> users_;
  mutable ScratchJson json_;  // so Keep is for one thread at a time
};

}  // namespace chatpipe
