#include "ingress/board_api.h"

#include <algorithm>

#include "common/board.h"
#include "common/events.h"
#include "common/message_id.h"
#include "common/metrics.h"
#include "ingress/api_support.h"
#include "ingress/board_hub.h"
#include "ingress/connection.h"
#include "ingress/json_input.h"
#include "ingress/loop.h"
#include "ingress/rate_limits.h"
#include "storage/board_store.h"
#include "storage/redis_keys.h"

namespace chatpipe {
namespace {

Metric& placements = Counter("chatpipe_ingress_board_placements_total", "placements acknowledged (in Kafka)");
Metric& cooldown_refusals = Counter("chatpipe_ingress_board_cooldown_total", "placements refused inside the cooldown");

const BoardConfig& Board(Connection& conn) { return conn.loop().services().config.board; }

std::string ETagOf(int64_t version) { return "\"" + std::to_string(version) + "\""; }

// Whether If-None-Match names `etag` (a list, or *).
bool Matches(const http::Request& req, const std::string& etag) {
  const std::string* header = req.Header("If-None-Match");
  if (!header) return false;
  if (*header == "*") return true;
  std::string_view rest = *header;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view one = rest.substr(0, comma);
    while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
    while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
    if (one.substr(0, 2) == "W/") one.remove_prefix(2);
    if (one == etag) return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

void AnswerBoard(Connection& conn, const http::Request& req, const std::shared_ptr<const BoardSnapshot>& board) {
  const std::string etag = ETagOf(board->version);
  const std::string headers = "ETag: " + etag + "\r\nX-Board-Version: " + std::to_string(board->version) +
                              "\r\nCache-Control: public, max-age=" + std::to_string(Board(conn).max_age_s) + "\r\n";
  if (Matches(req, etag)) return conn.Respond(304, "application/octet-stream", {}, headers);
  conn.RespondShared(200, "application/octet-stream", std::shared_ptr<const std::string>(board, &board->bytes), headers);
}

// The cooldown: a key per user that lives cooldown_ms from the user's last placement, made by SET NX
// on every ingress's Redis: a placement makes it or finds it, atomically, in one plain command (the
// token bucket script cost Redis 10 µs a call); only a refusal asks how long it has left. Unlike the
// flood limits it does not open when Redis is away: `done` gets -1 then.
void TakeCooldown(Loop& loop, int64_t user, std::function<void(int64_t wait_ms)> done) {
  const int cooldown = loop.services().config.board.cooldown_ms;
  if (cooldown <= 0) return done(0);
  const std::string key = BoardCooldownKey(loop.redis_prefix(), user);
  Loop* at = &loop;
  loop.redis().Command({"SET", key, "1", "PX", std::to_string(cooldown), "NX"}, [at, key, done](redisReply* r) {
    if (!r || r->type == REDIS_REPLY_ERROR) return done(-1);
    if (r->type == REDIS_REPLY_STATUS) return done(0);
    at->redis().Command({"PTTL", key}, [done](redisReply* left) {
      if (!left || left->type != REDIS_REPLY_INTEGER) return done(-1);
      done(std::max<long long>(left->integer, 1));  // gone meanwhile (-2): a retry at once will do
    });
  });
}

// Kafka refused a placement the cooldown had counted: the user may try again at once. `then` runs once
// Redis has answered (or failed), so that a retry sent on the refusal is never held by the cooldown.
void GiveBackCooldown(Loop& loop, int64_t user, std::function<void()> then) {
  if (loop.services().config.board.cooldown_ms <= 0) return then();
  loop.redis().Command({"DEL", BoardCooldownKey(loop.redis_prefix(), user)},
                       [then = std::move(then)](redisReply*) { then(); });
}

void ProducePlacement(Loop* loop, const PixelPlacement& p, std::function<void(Status)> done) {
  Services& services = loop->services();
  if (!services.producer) return done(Status::Unavailable("kafka_unavailable", "placements are not taken here"));
  if (!loop->tasks().Admit()) return done(Busy());
  loop->placements().Add(p, std::move(done));
}

}  // namespace

void BoardMetaRoute(Connection& conn) {
  const BoardConfig& board = Board(conn);
  conn.RespondJson(200, Json([&](JsonWriter& w) {
                     w.StartObject();
                     w.Key("width");
                     w.Int(board.width);
                     w.Key("height");
                     w.Int(board.height);
                     w.Key("palette");
                     w.StartArray();
                     for (const std::string& c : board.palette) w.String(c.c_str());
                     w.EndArray();
                     w.Key("cooldown_ms");
                     w.Int(board.cooldown_ms);
                     w.EndObject();
                   }));
}

void BoardRoute(Connection& conn, const http::Request& req) {
  int64_t min_version = 0;
  if (!req.QueryInt("v", &min_version) || min_version < 0)
    return conn.RespondError(Status::InvalidArgument("bad_version", "v must be a board version (integer >= 0)"));
  Loop* loop = &conn.loop();
  AdmitRequest(conn, "board_reads", "too many board reads from your address; try again later",
               {AddressBucket(*loop, "board_reads", conn.ClientAddress(),
                              loop->services().config.limits.board_reads_per_address)},
               [loop, req, min_version](Connection& c) {
                 uint64_t id = c.id();
                 loop->board().Read(min_version, [loop, id, req](Result<std::shared_ptr<const BoardSnapshot>> board) {
                   Connection* c = loop->FindConnection(id);
                   if (!c) return;
                   if (!board.ok()) return c->RespondError(board.status());
                   AnswerBoard(*c, req, *board);
                 });
               });
}

void PixelStoryRoute(Connection& conn, const http::Request& req, int x, int y) {
  if (!Board(conn).CheckPixel(x, y, 0).ok())
    return conn.RespondError(Status::NotFound("no_such_pixel", "the board has no pixel there"));
  int64_t limit = 10;
  if (!req.QueryInt("limit", &limit) || limit < 1 || limit > 50)
    return conn.RespondError(Status::InvalidArgument("bad_limit", "limit must be an integer from 1 to 50"));
  Loop* loop = &conn.loop();
  AdmitRequest(
      conn, "pixel_reads", "too many pixel reads from your address; try again later",
      {AddressBucket(*loop, "pixel_reads", conn.ClientAddress(), loop->services().config.limits.pixel_reads_per_address)},
      [x, y, limit](Connection& c) {
        OnDb<std::vector<PixelHistoryEntry>>(
            c, [x, y, limit](PgConn& pg) { return PixelHistory(pg, x, y, static_cast<int>(limit)); },
            [x, y](Reply reply, Result<std::vector<PixelHistoryEntry>> story) {
              if (!story.ok()) return reply(story.status());
              reply(200, Json([&](JsonWriter& w) {
                      w.StartObject();
                      w.Key("x");
                      w.Int(x);
                      w.Key("y");
                      w.Int(y);
                      w.Key("color");
                      w.Int(story->empty() ? 0 : story->front().color);
                      w.Key("history");
                      w.StartArray();
                      for (const PixelHistoryEntry& e : *story) {
                        w.StartObject();
                        w.Key("id");
                        w.String(std::to_string(e.id).c_str());
                        w.Key("user");
                        w.StartObject();
                        w.Key("id");
                        w.Int64(e.user);
                        w.Key("name");
                        w.String(e.name.c_str());
                        w.EndObject();
                        w.Key("color");
                        w.Int(e.color);
                        w.Key("ts");
                        w.Int64(e.ts_ms);
                        w.EndObject();
                      }
                      w.EndArray();
                      w.EndObject();
                    }));
            });
      });
}

Result<PixelPlacement> ReadPlacement(const rapidjson::Document& doc, const BoardConfig& board, int64_t user) {
  auto x = IntField(doc, "x");
  auto y = IntField(doc, "y");
  auto color = IntField(doc, "color");
  if (Status e = FirstError({x.status(), y.status(), color.status()}); !e.ok()) return e;
  if (!*x || !*y || !*color) return Status::InvalidArgument("bad_field", "x, y and color are required");
  if (Status s = board.CheckPixel(**x, **y, **color); !s.ok()) return s;
  return PixelPlacement{
      .user = user, .x = static_cast<int>(**x), .y = static_cast<int>(**y), .color = static_cast<int>(**color)};
}

namespace {

PlaceOutcome Refused(Status s, int64_t retry_after_ms = 0) {
  PlaceOutcome out;
  out.status = std::move(s);
  out.retry_after_ms = retry_after_ms;
  return out;
}

}  // namespace

void PlacePixel(Loop& loop, PixelPlacement p, std::function<void(const PlaceOutcome&)> done) {
  Loop* at = &loop;
  TakeCooldown(loop, p.user, [at, p, done = std::move(done)](int64_t wait_ms) mutable {
    if (wait_ms < 0) return done(Refused(Status::Unavailable("redis_unavailable", "the cooldown cannot be checked now")));
    if (wait_ms > 0) {
      cooldown_refusals.Add();
      return done(Refused(Status::ResourceExhausted("rate_limited", "one pixel per cooldown; wait for it"), wait_ms));
    }
    auto id = at->services().NextId();
    if (!id.ok()) return done(Refused(id.status()));
    p.id = *id;
    p.ts_ms = static_cast<int64_t>(MessageIdGenerator::TimestampMs(p.id));
    ProducePlacement(at, p, [at, p, done = std::move(done)](Status s) {
      if (!s.ok()) return GiveBackCooldown(*at, p.user, [s, done = std::move(done)] { done(Refused(s)); });
      placements.Add();
      done({Status::Ok(), 0, p});
    });
  });
}

void PlacePixelRoute(Connection& conn, const http::Request& req, const TokenUser& user) {
  rapidjson::Document doc;
  if (Status s = ParseObject(req.body, {"x", "y", "color"}, &doc); !s.ok()) return conn.RespondError(s);
  auto p = ReadPlacement(doc, Board(conn), user.id);
  if (!p.ok()) return conn.RespondError(p.status());
  Reply reply{&conn.loop(), conn.id()};
  PlacePixel(conn.loop(), *p, [reply](const PlaceOutcome& o) {
    if (o.retry_after_ms > 0) {
      if (Connection* c = reply.loop->FindConnection(reply.conn_id))
        RespondRateLimited(*c, Refusal{o.retry_after_ms, o.status.detail()});
      return;
    }
    if (!o.status.ok()) return reply(o.status);
    reply(202, Json([&](JsonWriter& w) {
            w.StartObject();
            w.Key("id");
            w.String(std::to_string(o.placement.id).c_str());
            w.Key("ts");
            w.Int64(o.placement.ts_ms);
            w.EndObject();
          }));
  });
}

}  // namespace chatpipe
