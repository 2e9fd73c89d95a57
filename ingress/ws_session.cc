#include "ingress/ws_session.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "ingress/board_api.h"
#include "ingress/connection.h"
#include "ingress/json_input.h"
#include "ingress/loop.h"
#include "ingress/message_intake.h"
#include "ingress/rate_limits.h"

namespace chatpipe {
namespace {

std::string AckFrame(const ChatEvent& e) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("type");
  w.String("ack");
  w.Key("room");
  w.Int64(e.room);
  w.Key("id");
  std::string id = std::to_string(e.id);
  w.String(id.c_str());
  w.Key("ts");
  w.Int64(e.ts_ms);
  if (!e.client_msg_id.empty()) {
    w.Key("client_msg_id");
    w.String(e.client_msg_id.c_str());
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string PlacedFrame(const PixelPlacement& p, const std::string& client_msg_id) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("type");
  w.String("placed");
  w.Key("id");
  std::string id = std::to_string(p.id);
  w.String(id.c_str());
  w.Key("ts");
  w.Int64(p.ts_ms);
  if (!client_msg_id.empty()) {
    w.Key("client_msg_id");
    w.String(client_msg_id.c_str());
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<int64_t> RoomField(const rapidjson::Document& doc) {
  auto room = IntField(doc, "room");
  if (!room.ok()) return room.status();
  if (!*room || **room <= 0) return Status::InvalidArgument("bad_field", "room must be a positive integer");
  return **room;
}

void Join(Connection& conn, const rapidjson::Document& doc) {
  auto room = RoomField(doc);
  auto after = IntField(doc, "after");
  if (!room.ok()) return conn.SendErrorFrame(room.status().name(), room.status().detail());
  if (!after.ok()) return conn.SendErrorFrame(after.status().name(), after.status().detail());
  if (*after && **after < 0) return conn.SendErrorFrame("bad_field", "after must be 0 or more");
  int64_t from = *after ? **after : -1;
  if (Refusal no = AdmitJoin(conn)) return conn.SendErrorFrame("rate_limited", no.reason, {}, no.retry_after_ms);
  Loop& loop = conn.loop();
  uint64_t id = conn.id();
  loop.access().Check(*room, conn.user().id, [&loop, id, room = *room, from](Status s, const RoomFacts& facts) {
    Connection* c = loop.FindConnection(id);
    if (!c) return;
    if (!s.ok()) return c->SendErrorFrame(s);
    loop.rooms().Join(c, room, from, facts.moderation);
  });
}

void Send(Connection& conn, const rapidjson::Document& doc) {
  auto room = RoomField(doc);
  auto text = StringField(doc, "text");
  auto cmid = StringField(doc, "client_msg_id");
  auto image = IdField(doc, "image");
  std::string client_msg_id = cmid.ok() && *cmid ? **cmid : "";
  if (Status e = FirstError({room.status(), text.status(), cmid.status(), image.status()}); !e.ok())
    return conn.SendErrorFrame(e.name(), e.detail(), client_msg_id);
  if (conn.loop().services().draining)
    return conn.SendErrorFrame("draining", "the server is restarting; send again once reconnected", client_msg_id);
  if (!*text && !*image) return conn.SendErrorFrame("bad_field", "text (or an image) is required", client_msg_id);
  // A seat catching up again after its Redis shard came back is still joined: its sends go on.
  Seat* seat = conn.FindSeat(*room);
  if (!seat || !seat->joined)
    return conn.SendErrorFrame("not_joined", "join the room before sending to it", client_msg_id);
  // Its checks may answer out of order with the next send's; what ends it waits its turn (SendOrder).
  uint64_t place = 0;
  if (!conn.send_order().Take(&place))
    return conn.SendErrorFrame("busy", std::to_string(SendOrder::kMaxOpen) + " sends of this connection await their checks; wait for their answers",
                               client_msg_id);
  Loop& loop = conn.loop();
  InOrder in_order = [&loop, id = conn.id(), place](std::function<void()> end) {
    if (Connection* c = loop.FindConnection(id)) c->send_order().End(place, std::move(end));
  };
  // The room's moderation comes from Check: as a rule a cache hit (the join checked), and PostgreSQL's
  // answer again if the entry was evicted since.
  loop.access().Check(*room, conn.user().id, [&loop, id = conn.id(), in_order, room = *room, text = text->value_or(""),
                                              client_msg_id, image = *image](Status s, const RoomFacts& facts) {
    Connection* checked = loop.FindConnection(id);
    if (!checked) return;
    if (!s.ok()) return in_order([&loop, id, s, client_msg_id] {
      if (Connection* c = loop.FindConnection(id)) c->SendErrorFrame(s, client_msg_id);
    });
    AdmitSend(*checked, checked->user().id, [in_order, room, facts, text, client_msg_id, image](Connection& c, const Refusal& no) {
      Loop& loop = c.loop();
      uint64_t id = c.id();
      if (no) return in_order([&loop, id, no, client_msg_id] {
        if (Connection* c = loop.FindConnection(id)) c->SendErrorFrame("rate_limited", no.reason, client_msg_id, no.retry_after_ms);
      });
      AcceptMessage(loop, c.user(), room, facts, text, client_msg_id, image, in_order, [&loop, id](Status s, const ChatEvent& e) {
        Connection* c = loop.FindConnection(id);
        if (!c) return;
        SendAnswered(*c);
        if (!s.ok()) return c->SendErrorFrame(s, e.client_msg_id);
        c->SendText(AckFrame(e));
      });
    });
  });
}

// A pixel placed over the socket: the HTTP route's checks and path (board_api.h), answered by a
// `placed` frame once Kafka has it. The connection keeps reading meanwhile (an HTTP request holds
// its connection until answered), so its placements awaiting an answer are bounded.
void Place(Connection& conn, const rapidjson::Document& doc) {
  auto cmid = StringField(doc, "client_msg_id");
  std::string client_msg_id = cmid.ok() && *cmid ? **cmid : "";
  if (!cmid.ok()) return conn.SendErrorFrame(cmid.status().name(), cmid.status().detail());
  if (!client_msg_id.empty())
    if (Status s = CheckClientMessageId(client_msg_id); !s.ok()) return conn.SendErrorFrame(s, client_msg_id);
  Loop& loop = conn.loop();
  auto p = ReadPlacement(doc, loop.services().config.board, conn.user().id);
  if (!p.ok()) return conn.SendErrorFrame(p.status(), client_msg_id);
  if (loop.services().draining)
    return conn.SendErrorFrame("draining", "the server is restarting; place again once reconnected", client_msg_id);
  int& in_flight = conn.buckets().placements_in_flight;
  if (in_flight >= kPlacementsInFlight) {
    CountRefusal("placements_in_flight");
    return conn.SendErrorFrame(
        "busy", std::to_string(kPlacementsInFlight) + " placements of this connection await their answer; wait for one",
        client_msg_id);
  }
  // Under a cooldown each placement asks Redis: the bucket board_subscribe and join share bounds what a
  // socket that never waits out its refusals costs Redis. At cooldown 0 nothing is asked.
  if (loop.services().config.board.cooldown_ms > 0)
    if (Refusal no = AdmitJoin(conn)) return conn.SendErrorFrame("rate_limited", no.reason, client_msg_id, no.retry_after_ms);
  ++in_flight;
  uint64_t id = conn.id();
  PlacePixel(loop, *p, [&loop, id, client_msg_id](const PlaceOutcome& o) {
    Connection* c = loop.FindConnection(id);
    if (!c) return;
    --c->buckets().placements_in_flight;
    if (o.retry_after_ms > 0) return c->SendErrorFrame(o.status.name(), o.status.detail(), client_msg_id, o.retry_after_ms);
    if (!o.status.ok()) return c->SendErrorFrame(o.status, client_msg_id);
    c->SendText(PlacedFrame(o.placement, client_msg_id));
  });
}

}  // namespace

void HandleWebSocketText(Connection& conn, std::string_view text) {
  rapidjson::Document doc;
  Status s = ParseObject(text, {"type", "room", "after", "text", "client_msg_id", "image", "x", "y", "color"}, &doc);
  if (!s.ok()) return conn.SendErrorFrame(s.name(), s.detail());
  auto type = StringField(doc, "type");
  if (!type.ok() || !*type) return conn.SendErrorFrame("bad_field", "type is required and must be a string");
  const std::string& t = **type;
  // Each type takes only its own fields.
  auto only = [&](std::initializer_list<std::string_view> fields) { return CheckMembers(doc, fields); };
  if (t == "join") {
    if (s = only({"type", "room", "after"}); !s.ok()) return conn.SendErrorFrame(s.name(), s.detail());
    return Join(conn, doc);
  }
  if (t == "leave") {
    if (s = only({"type", "room"}); !s.ok()) return conn.SendErrorFrame(s.name(), s.detail());
    auto room = RoomField(doc);
    if (!room.ok()) return conn.SendErrorFrame(room.status().name(), room.status().detail());
    return conn.loop().rooms().Leave(&conn, *room);
  }
  if (t == "board_subscribe" || t == "board_unsubscribe") {
    if (s = only({"type"}); !s.ok()) return conn.SendErrorFrame(s.name(), s.detail());
    if (t == "board_subscribe") {
      // Each costs a Redis read (the version): it counts as a join.
      if (Refusal no = AdmitJoin(conn)) return conn.SendErrorFrame("rate_limited", no.reason, {}, no.retry_after_ms);
      return conn.loop().board().Subscribe(&conn);
    }
    return conn.loop().board().Unsubscribe(&conn);
  }
  if (t == "send") {
    if (s = only({"type", "room", "text", "client_msg_id", "image"}); !s.ok()) return conn.SendErrorFrame(s.name(), s.detail());
    return Send(conn, doc);
  }
  if (t == "place") {
    if (s = only({"type", "x", "y", "color", "client_msg_id"}); !s.ok()) return conn.SendErrorFrame(s.name(), s.detail());
    return Place(conn, doc);
  }
  conn.SendErrorFrame("unknown_type", "unknown frame type \"" + t + "\"");
}

}  // namespace chatpipe
