#include "cli/replay_filter.h"

#include <rapidjson/document.h>

#include <charconv>

namespace chatpipe {
namespace {

const rapidjson::Value* Member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(name);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

}  // namespace

ReplayFilter::ReplayFilter(const std::vector<int64_t>& rooms, const std::vector<std::string>& users)
    : rooms_(rooms.begin(), rooms.end()), users_(users.begin(), users.end()) {}

bool ReplayFilter::Keep(std::string_view key, std::string_view event, bool key_is_room) const {
  if (empty()) return true;
  if (key_is_room && users_.empty()) {
    int64_t room = 0;
    auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), room);
    return ec == std::errc() && end == key.data() + key.size() && rooms_.count(room);
  }
  const rapidjson::Value* parsed = json_.Parse(event);
  if (!parsed) return false;
  const rapidjson::Value& doc = *parsed;
  if (!rooms_.empty()) {
    const rapidjson::Value* room = Member(doc, "room");
    if (room && room->IsObject()) room = Member(*room, "id");
    if (!room || !room->IsInt64() || !rooms_.count(room->GetInt64())) return false;
  }
  if (!users_.empty()) {
    const rapidjson::Value* who = Member(doc, "user");
    if (!who) who = Member(doc, "from");
    const rapidjson::Value* name = who ? Member(*who, "name") : nullptr;
    if (!name || !name->IsString() || !users_.count(std::string(name->GetString(), name->GetStringLength())))
      return false;
  }
  return true;
}

}  // namespace chatpipe
