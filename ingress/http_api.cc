#include "ingress/http_api.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <regex>

#include "common/events.h"
#include "common/metrics.h"
#include "ingress/api_support.h"
#include "ingress/board_api.h"
#include "ingress/connection.h"
#include "ingress/db_round_trip.h"
#include "ingress/email_verification.h"
#include "ingress/health.h"
#include "ingress/http_status.h"
#include "ingress/json_input.h"
#include "ingress/mentions_api.h"
#include "ingress/loop.h"
#include "ingress/media_api.h"
#include "ingress/message_intake.h"
#include "ingress/routes.h"
#include "ingress/sessions_api.h"
#include "ingress/password_routes.h"
#include "ingress/rate_limits.h"
#include "ingress/room_tags.h"
#include "ingress/static_files.h"
#include "ingress/stats_api.h"
#include "ingress/web_security.h"
#include "storage/chat_store.h"
#include "storage/email_verification.h"
#include "storage/redis_keys.h"

namespace chatpipe {
namespace {

using Writer = JsonWriter;
Metric& http_requests = Counter("chatpipe_ingress_http_requests_total", "HTTP requests answered");

// --- users and sessions ---

void CreateUserRoute(Connection& conn, const http::Request& req) {
  rapidjson::Document doc;
  if (Status s = ParseObject(req.body, {"name", "email", "password"}, &doc); !s.ok()) return conn.RespondError(s);
  auto name = StringField(doc, "name");
  auto email = StringField(doc, "email");
  auto password = StringField(doc, "password");
  if (Status e = FirstError({name.status(), email.status(), password.status()}); !e.ok()) return conn.RespondError(e);
  static const std::regex kName("[A-Za-z0-9_.-]{1,32}");
  // @room, @all and @here mention a room's members, so no user may be called that.
  static const std::regex kReserved("(room|all|here)", std::regex::icase);
  if (!*name || !std::regex_match(**name, kName) || (*name)->rfind("guest-", 0) == 0 ||
      std::regex_match(**name, kReserved))
    return conn.RespondError(Status::InvalidArgument(
        "bad_name", "name must be 1 to 32 letters, digits, '_', '.' or '-', not start with guest- and not be "
                    "room, all or here"));
  if (!*email || (*email)->size() > 254 || (*email)->find('@') == std::string::npos ||
      (*email)->find(' ') != std::string::npos)
    return conn.RespondError(Status::InvalidArgument("bad_email", "email must be an e-mail address"));
  if (!*password || (*password)->size() < 8 || (*password)->size() > 1024)
    return conn.RespondError(Status::InvalidArgument("bad_password", "password must be 8 to 1024 bytes"));
  SignUp(conn, **name, **email, **password);
}

void CreateSessionRoute(Connection& conn, const http::Request& req) {
  rapidjson::Document doc;
  if (Status s = ParseObject(req.body, {"name", "password"}, &doc); !s.ok()) return conn.RespondError(s);
  auto name = StringField(doc, "name");
  auto password = StringField(doc, "password");
  if (Status e = FirstError({name.status(), password.status()}); !e.ok()) return conn.RespondError(e);
  if (!*name || !*password) return conn.RespondError(Status::InvalidArgument("bad_field", "name and password are required"));
  Services* services = &conn.loop().services();
  SignIn(conn, **name, **password, [services](Reply reply, const UserRow& user) { reply(200, SessionJson(*services, user)); });
}

void CreateGuestRoute(Connection& conn, const http::Request& req) {
  rapidjson::Document doc;
  if (!req.body.empty())
    if (Status s = ParseObject(req.body, {}, &doc); !s.ok()) return conn.RespondError(s);
  Services* services = &conn.loop().services();
  AdmitRequest(conn, "guests_per_address", "too many guest sessions from your address; try again later",
               {AddressBucket(conn.loop(), "guests", conn.ClientAddress(), services->config.limits.guests_per_address)},
               [services](Connection& c) {
                 OnDb<UserRow>(c, [](PgConn& pg) { return CreateGuest(pg); }, [services](Reply reply, Result<UserRow> user) {
                   if (!user.ok()) return reply(user.status());
                   reply(200, SessionJson(*services, *user));
                 });
               });
}

// GET or PATCH /api/users/me: the token's user and their settings.
void MeRoute(Connection& conn, const http::Request& req, const TokenUser& user) {
  std::optional<bool> notifications;
  if (req.method == "PATCH") {
    rapidjson::Document doc;
    if (Status s = ParseObject(req.body, {"email_notifications"}, &doc); !s.ok()) return conn.RespondError(s);
    auto on = BoolField(doc, "email_notifications");
    if (!on.ok()) return conn.RespondError(on.status());
    notifications = *on;
  }
  OnDb<UserSettings>(
      conn,
      [uid = user.id, notifications](PgConn& pg) {
        return notifications ? UpdateUserSettings(pg, uid, *notifications) : GetUserSettings(pg, uid);
      },
      [user](Reply reply, Result<UserSettings> settings) {
        if (!settings.ok()) return reply(settings.status());
        reply(200, Json([&](Writer& w) {
                w.StartObject();
                WriteUserFields(w, user.id, user.name, user.guest);
                w.Key("email");
                w.String(settings->email.c_str());
                w.Key("email_verified");
                w.Bool(settings->email_verified);
                w.Key("email_notifications");
                w.Bool(settings->email_notifications);
                w.EndObject();
              }));
      });
}

// --- rooms ---

// The cached list holds every room, private ones with their member ids; each user sees the public
// rooms and the private rooms they belong to, a page at a time (RoomList).
void ListRoomsRoute(Connection& conn, const http::Request& req, const TokenUser& user) {
  RoomPage page;
  int64_t limit = RoomPage::kDefaultLimit;
  if (!req.QueryInt("limit", &limit) || limit < 1 || limit > RoomPage::kMaxLimit)
    return conn.RespondError(Status::InvalidArgument(
        "bad_limit", "limit must be an integer from 1 to " + std::to_string(RoomPage::kMaxLimit)));
  page.limit = static_cast<int>(limit);
  page.after = req.QueryParam("after").value_or("");
  page.prefix = req.QueryParam("q").value_or("");
  // Room names are at most 64 bytes: a longer cursor or prefix could only be a mistake.
  if (page.after.size() > 64 || page.prefix.size() > 64)
    return conn.RespondError(Status::InvalidArgument("bad_query", "after and q are at most 64 bytes (a room name's length)"));
  std::transform(page.prefix.begin(), page.prefix.end(), page.prefix.begin(), [](unsigned char c) { return std::tolower(c); });
  Reply reply{&conn.loop(), conn.id()};
  conn.loop().room_list().List(user.id, std::move(page), reply);
}

void GetRoomRoute(Connection& conn, const TokenUser& user, int64_t room) {
  Reply reply{&conn.loop(), conn.id()};
  conn.loop().room_list().Find(user.id, room, reply);
}

// Calls `then` once the cached list is gone, so that the change's author, whose next request may
// land on another loop with its own Redis connection, never reads the list from before it. The
// generation goes up with it, at one instant: a refill that read PostgreSQL before the change cannot
// cache it again (kRoomsListSetScript), and a loop's copy of the list is never taken for current.
void InvalidateRoomList(Loop* loop, std::function<void()> then) {
  const std::string& p = loop->redis_prefix();
  loop->redis().Command({"EVAL", kRoomsListDropScript, "2", RoomsGenerationKey(p), RoomsListKey(p)},
                        [then = std::move(then)](redisReply*) { then(); });
}

void CreateRoomRoute(Connection& conn, const http::Request& req, const TokenUser& user) {
  rapidjson::Document doc;
  if (Status s = ParseObject(req.body, {"name", "private", "moderation"}, &doc); !s.ok()) return conn.RespondError(s);
  auto name = StringField(doc, "name");
  auto is_private = BoolField(doc, "private");
  auto moderation = ModerationField(doc, "moderation");
  if (Status e = FirstError({name.status(), is_private.status(), moderation.status()}); !e.ok())
    return conn.RespondError(e);
  const Moderation policy = *moderation;
  // Policies are ordered tag < mask < block. Strong words never get a milder policy than mild ones:
  // a room that masks "damn" and shows the f-word would have no meaning.
  if (policy.strong < policy.mild)
    return conn.RespondError(Status::InvalidArgument(
        "bad_field", "moderation: strong words' policy must be at least as strict as mild words' (tag < mask < block)"));
  static const std::regex kRoomName("[a-z0-9][a-z0-9_-]{0,63}");
  std::string room_name = *name ? **name : "";
  std::transform(room_name.begin(), room_name.end(), room_name.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!std::regex_match(room_name, kRoomName))
    return conn.RespondError(Status::InvalidArgument(
        "bad_name", "room name must be 1 to 64 letters, digits, '_' or '-', starting with a letter or digit"));
  Loop* loop = &conn.loop();
  const RateLimitConfig& limits = loop->services().config.limits;
  AdmitRequest(
      conn, "rooms", "you, or your address, created too many rooms; try again later",
      {UserBucket(*loop, "rooms", user.id, limits.rooms_per_user),
       AddressBucket(*loop, "rooms", conn.ClientAddress(), limits.rooms_per_address)},
      [loop, uid = user.id, room_name, p = is_private->value_or(false), policy](Connection& c) {
        OnDb<RoomRow>(
            c, [uid, room_name, p, policy](PgConn& pg) { return CreateRoom(pg, uid, room_name, p, policy); },
            [loop](Reply reply, Result<RoomRow> room) {
              if (!room.ok()) return reply(room.status());
              InvalidateRoomList(loop, [reply, body = Json([&](Writer& w) { WriteRoom(w, *room); })] { reply(201, body); });
            });
      });
}

struct AddedMember {
  UserRow user;
  bool new_member = false;  // false: already a member, nothing changed
};

// POST /api/rooms/{id}/members, admitted by the requester's bucket.
void AddAdmittedMember(Connection& conn, Loop* loop, int64_t room, int64_t requester, const std::string& name) {
  OnDb<AddedMember>(
      conn,
      [room, requester, n = name](PgConn& pg) -> Result<AddedMember> {
        auto info = GetRoom(pg, room);
        if (!info.ok()) return info.status();
        if (!info->is_private) return Status::InvalidArgument("not_private", "public rooms have no member list");
        auto allowed = IsMember(pg, room, requester);
        if (!allowed.ok()) return allowed.status();
        if (!*allowed) return Status::PermissionDenied("only members can add members to a private room");
        auto added = FindUserByName(pg, n);
        if (!added.ok()) return added.status();
        auto now_member = AddMember(pg, room, added->id);
        if (!now_member.ok()) return now_member.status();
        return AddedMember{*added, *now_member};
      },
      [loop, room](Reply reply, Result<AddedMember> added) {
        if (!added.ok()) return reply(added.status());
        std::string body = Json([&](Writer& w) {
          w.StartObject();
          w.Key("room");
          w.Int64(room);
          w.Key("user");
          WriteUser(w, added->user);
          w.EndObject();
        });
        // Adding a member again changes nothing: the cached room list stays (each invalidation makes
        // every loop's next GET /api/rooms read all rooms from PostgreSQL).
        if (!added->new_member) return reply(201, body);
        InvalidateRoomList(loop, [reply, body = std::move(body)] { reply(201, body); });
      });
}

void AddMemberRoute(Connection& conn, const http::Request& req, const TokenUser& user, int64_t room) {
  rapidjson::Document doc;
  if (Status s = ParseObject(req.body, {"user"}, &doc); !s.ok()) return conn.RespondError(s);
  auto name = StringField(doc, "user");
  if (Status e = FirstError({name.status()}); !e.ok()) return conn.RespondError(e);
  if (!*name) return conn.RespondError(Status::InvalidArgument("bad_field", "user (a user name) is required"));
  Loop* loop = &conn.loop();
  AdmitRequest(conn, "members", "you added too many members; try again later",
               {UserBucket(*loop, "members", user.id, loop->services().config.limits.members_per_user)},
               [loop, room, requester = user.id, n = **name](Connection& c) {
                 AddAdmittedMember(c, loop, room, requester, n);
               });
}

// --- messages ---

std::string HistoryJson(const std::vector<std::string>& frames, int64_t oldest_pos, bool maybe_more) {
  std::string out = "{\"messages\":[";
  for (size_t i = 0; i < frames.size(); ++i) {
    if (i) out += ',';
    out += frames[i];
  }
  out += "],\"next_before\":";
  out += maybe_more && oldest_pos > 1 ? std::to_string(oldest_pos) : "null";
  out += '}';
  return out;
}

// Rows the tag worker has not tagged yet get the tags ingress gave them (room_tags.h).
void HistoryFromDatabase(Reply reply, int64_t room, const Moderation& moderation, int64_t before, int limit) {
  const Tagger* tagger = reply.loop->services().tagger.get();
  RunOnDb<std::string>(
      reply.loop->tasks(), reply.loop->db(),
      [room, moderation, tagger, before, limit](PgConn& pg) -> Result<std::string> {
        auto rows = MessagesBefore(pg, room, before, limit);
        if (!rows.ok()) return rows.status();
        TagUntaggedRows(*tagger, moderation, &*rows);
        std::vector<std::string> frames;
        for (const auto& m : *rows) frames.push_back(EncodeMessageFrame(m));
        return HistoryJson(frames, rows->empty() ? 0 : rows->back().pos, static_cast<int>(rows->size()) == limit);
      },
      reply);
}

// Newest first. The newest kHistoryCap come from the Redis list when it holds enough of them.
void HistoryRoute(Connection& conn, const http::Request& req, int64_t room, const Moderation& moderation) {
  int64_t limit = 50, before = 0;
  if (!req.QueryInt("limit", &limit) || limit < 1 || limit > 100)
    return conn.RespondError(Status::InvalidArgument("bad_limit", "limit must be an integer from 1 to 100"));
  if (!req.QueryInt("before", &before) || before < 0)
    return conn.RespondError(Status::InvalidArgument("bad_before", "before must be a message position (integer >= 1)"));
  Reply reply{&conn.loop(), conn.id()};
  if (before > 0 || limit > kHistoryCap)
    return HistoryFromDatabase(reply, room, moderation, before, static_cast<int>(limit));
  Loop& loop = conn.loop();
  loop.redis().Command({"LRANGE", RoomHistoryKey(loop.redis_prefix(), room), "0", std::to_string(limit - 1)},
                       [reply, room, moderation, limit](redisReply* list) {
                         std::vector<std::string> frames;
                         if (list && list->type == REDIS_REPLY_ARRAY)
                           for (size_t i = 0; i < list->elements; ++i)
                             frames.emplace_back(list->element[i]->str, list->element[i]->len);
                         int64_t oldest = frames.empty() ? 0 : FramePosition(frames.back());
                         // Enough cached, or the cache reaches the room's first message: no database needed.
                         if (static_cast<int64_t>(frames.size()) == limit || oldest == 1)
                           return reply(200, HistoryJson(frames, oldest, oldest > 1));
                         HistoryFromDatabase(reply, room, moderation, 0, static_cast<int>(limit));
                       });
}

void PostMessageRoute(Connection& conn, const http::Request& req, const TokenUser& user, int64_t room,
                      const RoomFacts& facts) {
  rapidjson::Document doc;
  if (Status s = ParseObject(req.body, {"text", "client_msg_id", "image"}, &doc); !s.ok()) return conn.RespondError(s);
  auto text = StringField(doc, "text");
  auto cmid = StringField(doc, "client_msg_id");
  auto image = IdField(doc, "image");
  if (Status e = FirstError({text.status(), cmid.status(), image.status()}); !e.ok()) return conn.RespondError(e);
  if (!*text && !*image) return conn.RespondError(Status::InvalidArgument("bad_field", "text (or an image) is required"));
  AdmitSend(conn, user.id, [user, room, facts, text = text->value_or(""), cmid = cmid->value_or(""),
                            image = *image](Connection& c, const Refusal& no) {
    if (no) return RespondRateLimited(c, no);
    Reply reply{&c.loop(), c.id()};
    AcceptMessage(c.loop(), user, room, facts, text, cmid, image, RunNow, [reply](Status st, const ChatEvent& e) {
      if (Connection* c = reply.loop->FindConnection(reply.conn_id)) SendAnswered(*c);
      if (!st.ok()) return reply(st);
      reply(202, Json([&](Writer& w) {
              w.StartObject();
              w.Key("id");
              w.String(std::to_string(e.id).c_str());
              w.Key("ts");
              w.Int64(e.ts_ms);
              w.EndObject();
            }));
    });
  });
}

void RoomScopedRoute(Connection& conn, http::Request req, const TokenUser& user, int64_t room, const std::string& what) {
  if (what == "members") return AddMemberRoute(conn, req, user, room);
  Loop& loop = conn.loop();
  uint64_t id = conn.id();
  loop.access().Check(room, user.id, [&loop, id, req = std::move(req), user, room, what](Status s,
                                                                                         const RoomFacts& facts) mutable {
    Connection* c = loop.FindConnection(id);
    if (!c) return;
    if (!s.ok()) return c->RespondError(s);
    if (what == "stats")
      return AdmitDatabaseRead(*c, user.id, [req, room](Connection& c) { RoomStatsRoute(c, req, room); });
    if (what == "uploads") return UploadRoute(*c, std::move(req), user, room);
    // The newest page comes from Redis; a page before it from PostgreSQL.
    if (req.method == "GET" && req.QueryParam("before"))
      return AdmitDatabaseRead(*c, user.id, [req, room, facts](Connection& c) {
        HistoryRoute(c, req, room, facts.moderation);
      });
    if (req.method == "GET") return HistoryRoute(*c, req, room, facts.moderation);
    PostMessageRoute(*c, req, user, room, facts);
  });
}

// Checks in the order a client can mend them: a malformed upgrade (400, or 426 naming the version we
// speak), a page of a foreign origin (403), then the token (401).
void UpgradeRoute(Connection& conn, const http::Request& req) {
  if (Status s = ws::CheckUpgradeRequest(req); !s.ok())
    return conn.RespondError(s, HttpStatusFor(s) == 426 ? "Sec-WebSocket-Version: 13\r\n" : "");
  if (!OriginAllowed(req, conn.loop().services().config.allowed_origins))
    return conn.RespondError(Status(StatusCode::kPermissionDenied, "origin_not_allowed",
                                    "pages of this origin may not open a WebSocket here"));
  Authenticate(conn, req, [req](Connection& c, const TokenUser& user) { c.AcceptWebSocket(req, user); }, true);
}

// The routes that need a token, once it has passed.
void AuthenticatedRoute(Connection& conn, http::Request req, const TokenUser& user) {
  if (req.path == "/api/sessions") return EndSessionRoute(conn, user);
  if (req.path == "/api/sessions/renew") return RenewSessionRoute(conn, user);
  if (req.path == "/api/rooms")
    return req.method == "GET" ? ListRoomsRoute(conn, req, user) : CreateRoomRoute(conn, req, user);
  if (req.path == "/api/users/me") return MeRoute(conn, req, user);
  if (req.path == "/api/users/verify/resend") return ResendVerificationRoute(conn, user);
  if (uint64_t message = ParseSpeechPath(req.path)) return SpeechRoute(conn, req, user, message);
  if (req.path == "/api/board/pixels") return PlacePixelRoute(conn, req, user);
  std::string what;
  if (int64_t room = ParseRoomPath(req.path, &what))
    return what.empty() ? GetRoomRoute(conn, user, room) : RoomScopedRoute(conn, std::move(req), user, room, what);
  HandleMentionsRequest(conn, req, user);
}

}  // namespace

void HandleHttpRequest(Connection& conn, http::Request req) {
  http_requests.Add();
  Services& services = conn.loop().services();
  std::string_view allow = AllowedMethods(req.path);
  if (allow.empty() || (req.path == "/metrics" && services.config.metrics_port >= 0))
    return conn.RespondError(Status::NotFound("not_found", "no such endpoint: " + req.path));
  if (!MethodAllowed(allow, req.method))
    return conn.RespondError(Status::InvalidArgument("method_not_allowed", "use " + std::string(allow)),
                             "Allow: " + std::string(allow) + "\r\n");
  // Answered here, on the loop: a loop that is wedged does not answer /livez.
  if (req.path == "/livez") return conn.RespondJson(200, LivenessJson(services.instance_id));
  if (req.path == "/readyz" || req.path == "/healthz") {
    ReadinessAnswer answer = IngressReadiness(services);
    return conn.RespondJson(answer.ready ? 200 : 503, answer.json);
  }
  if (req.path == "/metrics") {
    // What the process counts is the operator's, not the internet's, and rendering it costs the loop.
    // A proxy we were not told to trust (a tunnel on this host, say) forwards for clients anywhere.
    const bool forwarded_by_stranger =
        !conn.proxied() && (req.Header("X-Forwarded-For") || req.Header("Forwarded") || req.Header("X-Real-IP"));
    if (forwarded_by_stranger || !services.metrics_readers.Contains(conn.client()))
      return conn.RespondError(Status::PermissionDenied(
          "/metrics answers only --metrics-allow addresses on this port (the operator may use --metrics-port)"));
    return conn.Respond(200, "text/plain; version=0.0.4", Metrics::Global().Render());
  }
  if (req.path == "/ws") return UpgradeRoute(conn, req);
  if (req.path == "/api/users") return CreateUserRoute(conn, req);
  if (req.path == "/api/users/verify") return VerifyEmailRoute(conn, req);
  if (req.path == "/api/sessions" && req.method == "POST") return CreateSessionRoute(conn, req);
  if (req.path == "/api/sessions/guest") return CreateGuestRoute(conn, req);
  // A public room's objects need no token (a CDN may serve them); ObjectRoute checks the rest.
  if (std::string what; ParseRoomPath(req.path, &what) && what.rfind("objects/", 0) == 0) return ObjectRoute(conn, req);
  // The board's reads are public (docs/board.md).
  if (req.path == "/api/board/meta") return BoardMetaRoute(conn);
  if (req.path == "/api/board") return BoardRoute(conn, req);
  if (int x, y; ParsePixelPath(req.path, &x, &y)) return PixelStoryRoute(conn, req, x, y);
  if (req.path.rfind("/api/", 0) == 0) {
    // Held, not copied: an upload's body is megabytes.
    auto held = std::make_shared<http::Request>(std::move(req));
    return Authenticate(conn, *held, [held](Connection& c, const TokenUser& user) {
      AuthenticatedRoute(c, std::move(*held), user);
    });
  }
  ServeStaticFile(conn, req);
}

}  // namespace chatpipe
