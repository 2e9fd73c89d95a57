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

void RoomList::List(int64_t user, RoomPage page, Done done) {
  WithFreshList([this, user, page = std::move(page), done = std::move(done)](Status s) {
    if (!s.ok()) return done(s);
    done(Render(user, page));
  });
}

void RoomList::Find(int64_t user, int64_t room, Done done) {
  WithFreshList([this, user, room, done = std::move(done)](Status s) {
    if (!s.ok()) return done(s);
    auto it = by_id_.find(room);
    if (it == by_id_.end()) return done(Status::NotFound("unknown_room", "no room with id " + std::to_string(room)));
    if (!Visible(it->second, user)) return done(Status::PermissionDenied("a private room you are not a member of"));
    done(rooms_[it->second].json);
  });
}

// One GET of the generation per request; the whole list only when it moved or the copy is too old.
void RoomList::WithFreshList(Fresh then) {
  loop_->redis().Command({"GET", RoomsGenerationKey(loop_->redis_prefix())}, [this, then = std::move(then)](redisReply* r) {
    const bool answered = r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_NIL);
    const std::string generation = r && r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len) : "";
    const bool young = parsed_ && std::chrono::steady_clock::now() < expires_;
    // Redis away: a copy within the cache's TTL is as good as what Redis would have served.
    if (young && (!answered || generation == generation_)) return then(Status::Ok());
    Wait(Waiter{answered ? generation : generation_, std::move(then)});
  });
}

void RoomList::Wait(Waiter waiter) {
  waiting_.push_back(std::move(waiter));
  if (waiting_.size() == 1) Fetch(waiting_.back().generation);
}

void RoomList::Fetch(std::string generation) {
  const std::string& p = loop_->redis_prefix();
  loop_->redis().Command({"EVAL", kRoomsListGetScript, "2", RoomsGenerationKey(p), RoomsListKey(p)},
                         [this, generation = std::move(generation)](redisReply* r) mutable {
    const bool answered = r && r->type == REDIS_REPLY_ARRAY && r->elements == 3;
    if (!answered) return Refill(std::move(generation));
    redisReply* gen = r->element[1];
    std::string now_generation = gen->type == REDIS_REPLY_STRING ? std::string(gen->str, gen->len) : "";
    redisReply* list = r->element[0];
    if (list->type != REDIS_REPLY_STRING) return Refill(std::move(now_generation));
    Parse(std::string_view(list->str, list->len));
    generation_ = std::move(now_generation);
    const long long ttl_ms = r->element[2]->type == REDIS_REPLY_INTEGER ? r->element[2]->integer : 0;
    expires_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(0LL, ttl_ms));
    Finish(Status::Ok());
  });
}

// `generation`: the list's generation read with the miss, before PostgreSQL is asked.
void RoomList::Refill(std::string generation) {
  refills.Add();
  RunOnDb<std::string>(
      loop_->tasks(), loop_->db(),
      [](PgConn& pg) -> Result<std::string> {
        auto rooms = AllRooms(pg);
        if (!rooms.ok()) return rooms.status();
        return CacheText(*rooms);
      },
      [this, generation = std::move(generation)](Result<std::string> all) {
        if (!all.ok()) return Finish(all.status());
        Parse(*all);
        generation_ = generation;
        expires_ = std::chrono::steady_clock::now();  // kept only once Redis holds it
        // Answered once the cache holds the list: a client's next request, on any loop, then finds it.
        const std::string& p = loop_->redis_prefix();
        loop_->redis().Command({"EVAL", kRoomsListSetScript, "2", RoomsGenerationKey(p), RoomsListKey(p), generation,
                                *all, std::to_string(kRoomsCacheTtlSeconds)},
                               [this](redisReply* r) {
                                 // Cached, or Redis away (then this copy serves for the TTL, not a
                                 // PostgreSQL read per request); refused: the list moved meanwhile.
                                 const bool refused = r && r->type == REDIS_REPLY_INTEGER && r->integer == 0;
                                 if (!refused)
                                   expires_ = std::chrono::steady_clock::now() + std::chrono::seconds(kRoomsCacheTtlSeconds);
                                 Finish(Status::Ok());
                               });
      });
}

// A request that read a newer generation than the copy's (a change while PostgreSQL was read) waits
// for one more fetch rather than be answered with the list from before the change.
void RoomList::Finish(Status status) {
  std::vector<Waiter> waiting, again;
  waiting.swap(waiting_);
  for (Waiter& w : waiting) {
    if (status.ok() && w.generation != generation_ && !w.again) {
      w.again = true;
      again.push_back(std::move(w));
      continue;
    }
    w.then(status);
  }
  for (Waiter& w : again) Wait(std::move(w));
}

void RoomList::Parse(std::string_view text) {
  struct Parsed {
    Room room;
    int64_t id;
    std::vector<int64_t> members;
  };
  std::vector<Parsed> all;
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.IsArray()) {
    for (const auto& room : doc.GetArray()) {
      RoomRow row;
      row.id = room["id"].GetInt64();
      row.name = room["name"].GetString();
      row.is_private = room["private"].GetBool();
      // A list cached by an ingress from before levels holds one policy name: read as both levels'.
      row.moderation = ModerationField(room, "moderation").value_or(Moderation{});
      Parsed p{{row.name, Json([&](JsonWriter& w) { WriteRoom(w, row); }), row.is_private}, row.id, {}};
      if (row.is_private)
        for (const auto& m : room["members"].GetArray()) p.members.push_back(m.GetInt64());
      all.push_back(std::move(p));
    }
  }
  // Byte order, not PostgreSQL's collation: pages are cut with std::string comparisons.
  std::sort(all.begin(), all.end(), [](const Parsed& a, const Parsed& b) { return a.room.name < b.room.name; });
  rooms_.clear();
  public_.clear();
  private_of_.clear();
  by_id_.clear();
  for (Parsed& p : all) {
    const auto index = static_cast<uint32_t>(rooms_.size());
    by_id_[p.id] = index;
    if (!p.room.is_private) public_.push_back(index);
    for (int64_t member : p.members) private_of_[member].push_back(index);
    rooms_.push_back(std::move(p.room));
  }
  parsed_ = true;
}

bool RoomList::Visible(uint32_t index, int64_t user) const {
  if (!rooms_[index].is_private) return true;
  auto it = private_of_.find(user);
  return it != private_of_.end() && std::binary_search(it->second.begin(), it->second.end(), index);
}

// Merges the public rooms and the user's private ones from the page's first name on: the page's
// length in steps, plus two binary searches.
std::string RoomList::Render(int64_t user, const RoomPage& page) const {
  auto by_name = [this](uint32_t index, const std::string& name) { return rooms_[index].name < name; };
  auto first_of = [&](const std::vector<uint32_t>& indices) {
    auto it = std::lower_bound(indices.begin(), indices.end(), page.prefix, by_name);
    if (!page.after.empty())
      it = std::max(it, std::upper_bound(indices.begin(), indices.end(), page.after,
                                         [this](const std::string& name, uint32_t index) { return name < rooms_[index].name; }));
    return it;
  };
  static const std::vector<uint32_t> kNone;
  auto mine = private_of_.find(user);
  const std::vector<uint32_t>& own = mine == private_of_.end() ? kNone : mine->second;
  auto pub = first_of(public_), priv = first_of(own);
  auto next_index = [&]() -> int64_t {
    int64_t index = -1;
    if (pub != public_.end()) index = *pub;
    if (priv != own.end() && (index < 0 || *priv < index)) index = *priv;
    if (index >= 0 && rooms_[index].name.compare(0, page.prefix.size(), page.prefix) != 0) return -1;
    return index;
  };
  std::string out = "{\"rooms\":[";
  int count = 0;
  int64_t index;
  const Room* last = nullptr;
  while (count < page.limit && (index = next_index()) >= 0) {
    if (pub != public_.end() && *pub == index) ++pub;
    else ++priv;
    if (count++ > 0) out += ',';
    last = &rooms_[index];
    out += last->json;
  }
  out += "],\"next\":";
  if (last && next_index() >= 0) {
    out += Json([&](JsonWriter& w) { w.String(last->name.c_str(), static_cast<rapidjson::SizeType>(last->name.size())); });
  } else {
    out += "null";
  }
  out += '}';
  return out;
}

}  // namespace chatpipe
