#include "ingress/sessions_api.h"

#include <hiredis/hiredis.h>

#include <algorithm>

#include "common/metrics.h"
#include "ingress/api_support.h"
#include "ingress/connection.h"
#include "ingress/loop.h"
#include "storage/redis_keys.h"

namespace chatpipe {
namespace {

Metric& logouts = Counter("chatpipe_ingress_logouts_total", "sessions ended by DELETE /api/sessions");
Metric& unchecked = Counter("chatpipe_ingress_sessions_unchecked_total",
                            "requests let through without a logout check because Redis could not answer");

constexpr std::string_view kEndedHead = "{\"type\":\"session_ended\",\"session\":\"";

Status RedisAway() { return Status::Unavailable("unavailable", "cannot log out right now; try again shortly"); }

// Issues a token of `user`'s session good for --token-ttl-s from now.
std::string TokenJson(Services& services, TokenUser user) {
  user.expires = NowSeconds() + services.config.token_ttl_s;
  std::string token = services.signer.Issue(user, user.expires);
  return Json([&](JsonWriter& w) {
    w.StartObject();
    w.Key("token");
    w.String(token.c_str());
    w.Key("expires");
    w.Int64(user.expires);
    w.Key("user");
    w.StartObject();
    WriteUserFields(w, user.id, user.name, user.guest);
    w.EndObject();
    w.EndObject();
  });
}

}  // namespace

std::string SessionEndedFrame(std::string_view session) { return std::string(kEndedHead).append(session) + "\"}"; }

std::string_view SessionOfEndedFrame(std::string_view payload) {
  if (payload.substr(0, kEndedHead.size()) != kEndedHead || payload.size() < kEndedHead.size() + 2 ||
      payload.substr(payload.size() - 2) != "\"}")
    return {};
  return payload.substr(kEndedHead.size(), payload.size() - kEndedHead.size() - 2);
}

std::string SessionJson(Services& services, const UserRow& user) {
  return TokenJson(services, {user.id, user.name, user.guest, TokenSigner::NewSession()});
}

void CheckSessionLive(Loop& loop, std::string_view session, std::function<void(Status)> done) {
  loop.redis().Command({"EXISTS", SessionEndedKey(loop.redis_prefix(), session)},
                       [done = std::move(done)](redisReply* r) {
                         if (!r || r->type != REDIS_REPLY_INTEGER) {
                           unchecked.Add();
                           return done(Status::Ok());
                         }
                         if (r->integer != 0) return done(Status::Unauthenticated("logged out"));
                         done(Status::Ok());
                       });
}

void EndSessionRoute(Connection& conn, const TokenUser& user) {
  Loop& loop = conn.loop();
  int64_t ttl = std::max<int64_t>(loop.services().config.token_ttl_s, user.expires - NowSeconds()) + 1;
  Reply reply{&loop, conn.id()};
  loop.redis().Command({"SET", SessionEndedKey(loop.redis_prefix(), user.session), "1", "EX", std::to_string(ttl)},
                       [reply, user](redisReply* r) {
                         if (!r || r->type == REDIS_REPLY_ERROR) return reply(RedisAway());
                         logouts.Add();
                         // Its open WebSockets, on any instance, close (UserHub).
                         reply.loop->redis().Command({"PUBLISH", UserChannel(reply.loop->redis_prefix(), user.id),
                                                      SessionEndedFrame(user.session)},
                                                     [](redisReply*) {});
                         if (Connection* c = reply.loop->FindConnection(reply.conn_id))
                           c->Respond(204, "application/json", "");
                       });
}

void RenewSessionRoute(Connection& conn, const TokenUser& user) {
  conn.RespondJson(200, TokenJson(conn.loop().services(), user));
}

}  // namespace chatpipe
