#include "workers/mention/mention_worker.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "common/json_writer.h"
#include "common/metrics.h"
#include "common/moderation.h"
#include "storage/redis_keys.h"
#include "analysis/mention_parser.h"
#include "analysis/tagger.h"

namespace chatpipe {
namespace {

Metric& mentions_made = Counter("chatpipe_mention_mentions_total", "mention rows created");
Metric& notifications = Counter("chatpipe_mention_notifications_total", "notification frames published");
Metric& notify_events = Counter("chatpipe_mention_notify_events_total", "chat.notify events produced for the mailer");
Metric& too_old_to_mail = Counter("chatpipe_mention_too_old_to_mail_total",
                                  "mentions of users who take e-mail not e-mailed (away or not): their message is older "
                                  "than --email-max-age-s");

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// Kinds in the order they win when one user is meant several ways.
enum Kind { kHere = 0, kRoomWide = 1, kNamed = 2 };
const char* KindName(int kind) { return kind == kNamed ? "user" : kind == kRoomWide ? "room" : "here"; }

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A PostgreSQL array literal of ids, for $n::bigint[].
template <typename Ids>
std::string IdArray(const Ids& ids) {
  std::string out = "{";
  for (int64_t id : ids) {
    if (out.size() > 1) out += ',';
    out += std::to_string(id);
  }
  return out + "}";
}

void WriteString(Writer& w, const std::string& s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

// "room":{"id","name"},"message":{"id","text","ts"[,"user":{"id","name"}]}: the part the chat.notify
// event and the notification frame share (the event names the author in its own "from").
void WriteRoomAndMessage(Writer& w, const ChatEvent& e, const std::string& room_name, const std::string& text,
                         bool with_author) {
  w.Key("room");
  w.StartObject();
  w.Key("id");
  w.Int64(e.room);
  w.Key("name");
  WriteString(w, room_name);
  w.EndObject();
  w.Key("message");
  w.StartObject();
  w.Key("id");
  WriteString(w, std::to_string(e.id));
  w.Key("text");
  WriteString(w, text);
  w.Key("ts");
  w.Int64(e.ts_ms);
  if (with_author) {
    w.Key("user");
    w.StartObject();
    w.Key("id");
    w.Int64(e.user.id);
    w.Key("name");
    WriteString(w, e.user.name);
    w.EndObject();
  }
  w.EndObject();
}

// The text a notification shows: in a mask room, the masked text the tagger produced inline.
std::string ShownText(const ChatEvent& e, const Moderation& moderation) {
  if (!moderation.Masks()) return e.text;
  return FlaggedMaskedText(e.tags).value_or(e.text);
}

// Waits for the delivery reports of a set of produced events.
class Deliveries {
 public:
  KafkaProducer::DeliveryFn Expect() {
    std::lock_guard<std::mutex> lock(mu_);
    ++pending_;
    return [this](Status s) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!s.ok() && first_error_.ok()) first_error_ = s;
      if (--pending_ == 0) done_.notify_all();
    };
  }
  Status Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return pending_ == 0; });
    return first_error_;
  }

 private:
  std::mutex mu_;
  std::condition_variable done_;
  int pending_ = 0;
  Status first_error_;
};

}  // namespace

struct MentionWorker::Pending {
  const ChatEvent* event = nullptr;
  ParsedMentions parsed;
  bool room_known = false;
  std::string room_name;
  bool room_private = false;
  std::string text;  // as the notification shows it
};

struct MentionWorker::Recipient {
  size_t pending = 0;
  int64_t user = 0;
  int kind = kHere;
  bool mailable = false;  // has an address and email_notifications on
};

struct MentionWorker::Notice {
  int64_t mention_id = 0;
  size_t pending = 0;
  int64_t user = 0;
  std::string kind;
  bool read = false;
  bool mailable = false;
};

MentionWorker::MentionWorker(CommonConfig config, MentionWorkerOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      pg_(config_.pg_conninfo),
      redis_(config_.RedisShards()),
      loop_(config_,
            {.worker = "mention",
             .group = options_.group,
             .topics = {kMessagesTopic},
             .batch_max = options_.batch,
             .range = options_.range},
            DecodeChatMessage, [this](const std::vector<ChatEvent>& events) { return Apply(events); }) {}

Status MentionWorker::Start() {
  auto producer = KafkaProducer::Create(config_.kafka_brokers);
  if (!producer.ok()) return producer.status();
  notify_ = std::move(*producer);
  return loop_.Start();
}

void MentionWorker::Run(const std::atomic<bool>& stop) {
  loop_.Run(stop);
}

Status MentionWorker::Apply(const std::vector<ChatEvent>& events) {
  std::vector<Pending> pending;
  std::unordered_set<uint64_t> ids;
  std::set<std::pair<int64_t, std::string>> client_ids;
  for (const auto& e : events) {
    if (!ids.insert(e.id).second) continue;
    // A client's retry in the same batch as its first attempt: the first one speaks for both.
    if (!e.client_msg_id.empty() && !client_ids.insert({e.user.id, e.client_msg_id}).second) continue;
    ParsedMentions parsed = ParseMentions(e.text, options_.max_mentions);
    if (parsed.empty()) continue;
    Pending p;
    p.event = &e;
    p.parsed = std::move(parsed);
    pending.push_back(std::move(p));
  }
  if (pending.empty()) return Status::Ok();
  std::vector<Recipient> recipients;
  if (Status s = Resolve(pending, &recipients); !s.ok()) return s;
  if (recipients.empty()) return Status::Ok();
  std::vector<Notice> notices;
  if (Status s = Record(pending, recipients, &notices); !s.ok()) return s;
  return Notify(pending, notices);
}

// Finds who each message means (rooms, named users, room members, posters and present users) and
// fills in each message's room and shown text.
Status MentionWorker::Resolve(std::vector<Pending>& pending, std::vector<Recipient>* recipients) {
  std::set<int64_t> room_ids;
  std::set<std::string> names;
  for (const auto& p : pending) {
    room_ids.insert(p.event->room);
    for (const auto& candidates : p.parsed.users) names.insert(candidates.begin(), candidates.end());
  }

  struct Room {
    std::string name;
    bool is_private = false;
    Moderation moderation;
    bool everyone = false, here = false;  // some message says @room/@all, @here
  };
  std::map<int64_t, Room> rooms;
  auto r = pg_.Exec("SELECT id, name, private, moderation_mild, moderation_strong FROM rooms WHERE id = ANY($1::bigint[])",
                    {IdArray(room_ids)});
  if (!r.ok()) return r.status();
  for (int i = 0; i < r->rows(); ++i)
    rooms[r->Int(i, 0)] = {std::string(r->Text(i, 1)), r->Bool(i, 2), ModerationFromColumns(r->Text(i, 3), r->Text(i, 4))};
  for (auto& p : pending) {
    auto room = rooms.find(p.event->room);
    if (room == rooms.end()) {
      spdlog::warn("mention: message {} is in unknown room {}; nobody notified", p.event->id, p.event->room);
      continue;
    }
    p.room_known = true;
    p.room_name = room->second.name;
    p.room_private = room->second.is_private;
    p.text = ShownText(*p.event, room->second.moderation);
    room->second.everyone |= p.parsed.room;
    room->second.here |= p.parsed.here;
  }

  std::unordered_map<std::string, int64_t> by_name;
  if (!names.empty()) {
    std::string list = "{";
    for (const auto& n : names) list += (list.size() > 1 ? ",\"" : "\"") + n + "\"";  // names are [a-z0-9_.-]
    auto u = pg_.Exec("SELECT id, lower(name) FROM users WHERE lower(name) = ANY($1::text[])", {list + "}"});
    if (!u.ok()) return u.status();
    for (int i = 0; i < u->rows(); ++i) by_name[std::string(u->Text(i, 1))] = u->Int(i, 0);
  }

  std::map<int64_t, std::set<int64_t>> members;  // private rooms
  std::map<int64_t, std::vector<int64_t>> posters, present;
  std::vector<int64_t> private_rooms, present_rooms;
  for (const auto& [id, room] : rooms) {
    if (room.is_private) private_rooms.push_back(id);
    if (room.here || room.everyone) present_rooms.push_back(id);
  }
  if (!private_rooms.empty()) {
    auto m = pg_.Exec("SELECT room_id, user_id FROM room_members WHERE room_id = ANY($1::bigint[])",
                      {IdArray(private_rooms)});
    if (!m.ok()) return m.status();
    for (int i = 0; i < m->rows(); ++i) members[m->Int(i, 0)].insert(m->Int(i, 1));
  }
  for (const auto& [id, room] : rooms) {
    if (room.is_private || !room.everyone) continue;
    // A loose index scan on messages_room_user: one probe per distinct poster.
    auto m = pg_.Exec(
        "WITH RECURSIVE posters(user_id) AS ("
        "  (SELECT user_id FROM messages WHERE room_id = $1 ORDER BY user_id LIMIT 1) "
        "  UNION ALL "
        "  SELECT (SELECT m.user_id FROM messages m WHERE m.room_id = $1 AND m.user_id > p.user_id "
        "          ORDER BY m.user_id LIMIT 1) FROM posters p WHERE p.user_id IS NOT NULL) "
        "SELECT user_id FROM posters WHERE user_id IS NOT NULL",
        {std::to_string(id)});
    if (!m.ok()) return m.status();
    for (int i = 0; i < m->rows(); ++i) posters[id].push_back(m->Int(i, 0));
  }
  if (!present_rooms.empty()) {
    const std::string now = "(" + std::to_string(NowMs());
    for (int64_t id : present_rooms)
      redis_.Append({"ZRANGEBYSCORE", RoomPresentKey(config_.RedisPrefix(), id), now, "+inf"});
    std::vector<RedisReply> replies;
    if (Status s = redis_.Flush(&replies); !s.ok()) return s;
    for (size_t i = 0; i < present_rooms.size(); ++i) {
      if (replies[i].type == REDIS_REPLY_ERROR)
        return Status::Unavailable("redis_unavailable", "Redis: " + replies[i].str);
      for (const auto& el : replies[i].elements) present[present_rooms[i]].push_back(std::atoll(el.str.c_str()));
    }
  }

  std::set<int64_t> user_ids;
  std::vector<Recipient> found;
  for (size_t pi = 0; pi < pending.size(); ++pi) {
    const Pending& p = pending[pi];
    if (!p.room_known) continue;
    const int64_t room = p.event->room;
    std::map<int64_t, int> who;
    auto add = [&](int64_t user, int kind) {
      if (user == p.event->user.id) return;
      if (p.room_private && !members[room].count(user)) return;
      auto [it, added] = who.emplace(user, kind);
      if (!added && kind > it->second) it->second = kind;
    };
    for (const auto& candidates : p.parsed.users) {
      for (const auto& name : candidates) {
        auto u = by_name.find(name);
        if (u == by_name.end()) continue;
        add(u->second, kNamed);
        break;
      }
    }
    if (p.parsed.room) {
      if (p.room_private) {
        for (int64_t user : members[room]) add(user, kRoomWide);
      } else {
        for (int64_t user : posters[room]) add(user, kRoomWide);
        for (int64_t user : present[room]) add(user, kRoomWide);
      }
    }
    if (p.parsed.here)
      for (int64_t user : present[room]) add(user, kHere);
    for (const auto& [user, kind] : who) {
      found.push_back({pi, user, kind});
      user_ids.insert(user);
    }
  }
  if (found.empty()) return Status::Ok();

  // Drops ids that are no user (stale presence entries) and learns who may get e-mail.
  auto u = pg_.Exec(
      "SELECT id, email IS NOT NULL AND email_notifications FROM users WHERE id = ANY($1::bigint[])",
      {IdArray(user_ids)});
  if (!u.ok()) return u.status();
  std::unordered_map<int64_t, bool> mailable;
  for (int i = 0; i < u->rows(); ++i) mailable[u->Int(i, 0)] = u->Bool(i, 1);
  for (auto& rcp : found) {
    auto m = mailable.find(rcp.user);
    if (m == mailable.end()) continue;
    rcp.mailable = m->second;
    recipients->push_back(rcp);
  }
  return Status::Ok();
}

// Inserts the batch's mentions and returns those not notified yet, in one statement. Events that are
// a client's retry of a message seen earlier under another id are left out (message_sources).
Status MentionWorker::Record(const std::vector<Pending>& pending, const std::vector<Recipient>& recipients,
                             std::vector<Notice>* notices) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartArray();
  for (const auto& rcp : recipients) {
    const ChatEvent& e = *pending[rcp.pending].event;
    w.StartObject();
    w.Key("message_id");
    w.Uint64(e.id);
    w.Key("room_id");
    w.Int64(e.room);
    w.Key("user_id");
    w.Int64(rcp.user);
    w.Key("kind");
    w.String(KindName(rcp.kind));
    w.Key("sender");
    w.Int64(e.user.id);
    w.Key("cmid");
    StringOrNull(w, e.client_msg_id);
    w.EndObject();
  }
  w.EndArray();
  // Sources go in key order, as the tag worker's do, so the two cannot deadlock. The main query
  // sees the tables as they were before this statement: message_sources rows of
  // earlier batches only, and mentions rows that existed before (the new ones come from ins).
  auto r = pg_.Exec(
      "WITH input AS ("
      "  SELECT * FROM jsonb_to_recordset($1::jsonb) "
      "    AS x(message_id bigint, room_id bigint, user_id bigint, kind text, sender bigint, cmid text)), "
      "src AS ("
      "  INSERT INTO message_sources (user_id, client_msg_id, message_id) "
      "  SELECT DISTINCT sender, cmid, message_id FROM input WHERE cmid IS NOT NULL ORDER BY 1, 2 "
      "  ON CONFLICT (user_id, client_msg_id) DO NOTHING), "
      "fresh AS ("
      "  SELECT i.* FROM input i LEFT JOIN message_sources s ON s.user_id = i.sender AND s.client_msg_id = i.cmid "
      "  WHERE s.message_id IS NULL OR s.message_id = i.message_id), "
      "ins AS ("
      "  INSERT INTO mentions (message_id, room_id, user_id, kind) "
      "  SELECT message_id, room_id, user_id, kind FROM fresh "
      "  ON CONFLICT (message_id, user_id) DO NOTHING "
      "  RETURNING id, message_id, user_id, kind) "
      "SELECT id, message_id, user_id, kind, false, true FROM ins "
      "UNION ALL "
      "SELECT m.id, m.message_id, m.user_id, m.kind, m.read_at IS NOT NULL, false "
      "FROM mentions m JOIN fresh f ON m.message_id = f.message_id AND m.user_id = f.user_id "
      "WHERE m.notified_at IS NULL",
      {std::string(buf.GetString(), buf.GetSize())});
  if (!r.ok()) return r.status();
  std::map<std::pair<uint64_t, int64_t>, const Recipient*> by_key;
  for (const auto& rcp : recipients) by_key[{pending[rcp.pending].event->id, rcp.user}] = &rcp;
  int64_t created = 0;
  for (int i = 0; i < r->rows(); ++i) {
    auto key = std::make_pair(static_cast<uint64_t>(r->Int(i, 1)), r->Int(i, 2));
    auto rcp = by_key.find(key);
    if (rcp == by_key.end()) continue;  // cannot happen: every row comes from the input
    notices->push_back({r->Int(i, 0), rcp->second->pending, key.second, std::string(r->Text(i, 3)), r->Bool(i, 4),
                        rcp->second->mailable});
    created += r->Bool(i, 5);
  }
  // In message order, as they were written: the statement returns them in no particular order.
  std::sort(notices->begin(), notices->end(),
            [](const Notice& a, const Notice& b) { return std::tie(a.pending, a.user) < std::tie(b.pending, b.user); });
  mentions_made.Add(created);
  return Status::Ok();
}

// Sends the notices out: chat.notify for offline users who want e-mail, then the live frames, then
// records them as notified.
Status MentionWorker::Notify(const std::vector<Pending>& pending, const std::vector<Notice>& notices) {
  if (notices.empty()) return Status::Ok();
  const std::string prefix = config_.RedisPrefix();
  const int64_t now = NowMs();

  std::vector<const Notice*> mailable;
  const int64_t oldest_mailed = now - options_.email_max_age_s * 1000;
  for (const auto& n : notices) {
    if (!n.mailable) continue;
    if (pending[n.pending].event->ts_ms >= oldest_mailed)
      mailable.push_back(&n);
    else
      too_old_to_mail.Add();
  }
  std::vector<const Notice*> offline;
  if (!mailable.empty()) {
    for (const Notice* n : mailable)
      redis_.Append({"ZCOUNT", OnlineKey(prefix, n->user), "(" + std::to_string(now), "+inf"});
    std::vector<RedisReply> replies;
    if (Status s = redis_.Flush(&replies); !s.ok()) return s;
    for (size_t i = 0; i < mailable.size(); ++i) {
      if (replies[i].type == REDIS_REPLY_ERROR)
        return Status::Unavailable("redis_unavailable", "Redis: " + replies[i].str);
      if (replies[i].integer == 0) offline.push_back(mailable[i]);
    }
  }

  if (!offline.empty()) {
    Deliveries deliveries;
    for (const Notice* n : offline) {
      const Pending& p = pending[n->pending];
      const ChatEvent& e = *p.event;
      rapidjson::StringBuffer buf;
      Writer w(buf);
      w.StartObject();
      w.Key("type");
      w.String("mention");
      w.Key("mention_id");
      w.Int64(n->mention_id);
      w.Key("user_id");
      w.Int64(n->user);
      WriteRoomAndMessage(w, e, p.room_name, p.text, /*with_author=*/false);
      w.Key("from");
      w.StartObject();
      w.Key("id");
      w.Int64(e.user.id);
      w.Key("name");
      WriteString(w, e.user.name);
      w.EndObject();
      w.Key("ts");
      w.Int64(now);
      w.EndObject();
      notify_->Produce(config_.Topic(kNotifyTopic), std::to_string(n->user),
                       std::string_view(buf.GetString(), buf.GetSize()), deliveries.Expect());
    }
    if (Status s = deliveries.Wait(); !s.ok()) return s;
    notify_events.Add(static_cast<int64_t>(offline.size()));
  }

  for (const auto& n : notices) {
    const Pending& p = pending[n.pending];
    const ChatEvent& e = *p.event;
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartObject();
    w.Key("type");
    w.String("notification");
    w.Key("mention");
    w.StartObject();
    w.Key("id");
    w.Int64(n.mention_id);
    w.Key("kind");
    WriteString(w, n.kind);
    w.Key("read");
    w.Bool(n.read);
    WriteRoomAndMessage(w, e, p.room_name, p.text, /*with_author=*/true);
    w.EndObject();
    w.EndObject();
    redis_.Append({"PUBLISH", UserChannel(prefix, n.user), std::string(buf.GetString(), buf.GetSize())});
  }
  std::vector<RedisReply> replies;
  if (Status s = redis_.Flush(&replies); !s.ok()) return s;
  for (const auto& r : replies)
    if (r.type == REDIS_REPLY_ERROR) return Status::Unavailable("redis_unavailable", "Redis: " + r.str);
  notifications.Add(static_cast<int64_t>(notices.size()));

  std::vector<int64_t> ids;
  for (const auto& n : notices) ids.push_back(n.mention_id);
  auto r = pg_.Exec("UPDATE mentions SET notified_at = now() WHERE id = ANY($1::bigint[])", {IdArray(ids)});
  return r.status();
}

}  // namespace chatpipe
