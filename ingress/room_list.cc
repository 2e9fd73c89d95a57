#include "ingress/room_list.h"

#include <hiredis/hiredis.h>
#include <rapidjson/document.h>

#include <algorithm>

#include "common/metrics.h"
#include "ingress/api_support.h"
#include "ingress/db_round_trip.h"
#include "ingress/json_input.h"
#include "ingress/loop.h"
#include "storage/chat_store.h"
#include "storage/redis_keys.h"

namespace chatpipe {
namespace {

Metric& refills = Counter("chatpipe_ingress_room_list_refills_total", "room lists read from PostgreSQL into Redis");

// The cached list's text, which Parse reads: [{"id","name","private","moderation"[,"members":[ids]]}...],
// the members for private rooms only.
std::string CacheText(const std::vector<ListedRoom>& rooms) {
  return Json([&](JsonWriter& w) {
    w.StartArray();
    for (const ListedRoom& listed : rooms) {
      w.StartObject();
      WriteRoomFields(w, listed.room);
      if (listed.room.is_private) {
        w.Key("members");
        w.StartArray();
        for (int64_t id : listed.members) w.Int64(id);
        w.EndArray();
      }
      w.EndObject();
    }
    w.EndArray();
  });
}

}  // namespace

void RoomList::Get(int64_t user, Done done) {
  const std::string& p = loop_->redis_prefix();
  loop_->redis().Command({"MGET", RoomsListKey(p), RoomsGenerationKey(p)},
                         [this, user, done = std::move(done)](redisReply* r) {
    const bool answered = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2;
    redisReply* list = answered ? r->element[0] : nullptr;
    if (list && list->type == REDIS_REPLY_STRING) {
      std::string_view text(list->str, list->len);
      if (text != raw_) Parse(text);
      return done(Render(user));
    }
    waiting_.push_back({user, std::move(done)});
    if (waiting_.size() > 1) return;
    redisReply* gen = answered ? r->element[1] : nullptr;
    refill_generation_ = gen && gen->type == REDIS_REPLY_STRING ? std::string(gen->str, gen->len) : "";
    Refill();
  });
}

void RoomList::Refill() {
  refills.Add();
  RunOnDb<std::string>(
      loop_->tasks(), loop_->db(),
      [](PgConn& pg) -> Result<std::string> {
        auto rooms = AllRooms(pg);
        if (!rooms.ok()) return rooms.status();
        return CacheText(*rooms);
      },
      [this](Result<std::string> all) { Refilled(std::move(all)); });
}

void RoomList::Refilled(Result<std::string> all) {
  if (all.ok()) Parse(*all);
  auto answer = [this, ok = all.ok(), status = all.status()] {
    std::vector<Waiter> waiting;
    waiting.swap(waiting_);
    for (Waiter& w : waiting) w.done(ok ? Result<std::string>(Render(w.user)) : Result<std::string>(status));
  };
  if (!all.ok()) return answer();
  // Answered once the cache holds the list: a client's next request, on any loop, then finds it.
  const std::string& p = loop_->redis_prefix();
  loop_->redis().Command({"EVAL", kRoomsListSetScript, "2", RoomsGenerationKey(p), RoomsListKey(p),
                          refill_generation_, *all, std::to_string(kRoomsCacheTtlSeconds)},
                         [answer](redisReply*) { answer(); });
}

void RoomList::Parse(std::string_view text) {
  raw_.assign(text);
  rooms_.clear();
  rapidjson::Document all;
  all.Parse(raw_.data(), raw_.size());
  if (!all.IsArray()) return;
  for (const auto& room : all.GetArray()) {
    RoomRow row;
    row.id = room["id"].GetInt64();
    row.name = room["name"].GetString();
    row.is_private = room["private"].GetBool();
    // A list cached by an ingress from before levels holds one policy name: read as both levels'.
    row.moderation = ModerationField(room, "moderation").value_or(Moderation{});
    Room r;
    r.is_private = row.is_private;
    if (r.is_private)
      for (const auto& m : room["members"].GetArray()) r.members.push_back(m.GetInt64());
    r.json = Json([&](JsonWriter& w) { WriteRoom(w, row); });
    rooms_.push_back(std::move(r));
  }
}

std::string RoomList::Render(int64_t user) const {
  std::string out = "{\"rooms\":[";
  bool first = true;
  for (const Room& r : rooms_) {
    if (r.is_private && std::find(r.members.begin(), r.members.end(), user) == r.members.end()) continue;
    if (!first) out += ',';
    first = false;
    out += r.json;
  }
  out += "]}";
  return out;
}

}  // namespace chatpipe
