#include "ingress/mentions_api.h"


#include "ingress/api_support.h"
#include "ingress/rate_limits.h"
#include "storage/mention_store.h"

namespace chatpipe {
namespace {

// {"mentions":[{"id","kind","read","room":{"id","name"},"message":{message frame, or {"id"} if not yet
// stored}}...], "unread":N, "next_before":ID|null}; next_before when the page is full.
std::string MentionsJson(const MentionsPage& page, int limit) {
  return Json([&](JsonWriter& w) {
    w.StartObject();
    w.Key("mentions");
    w.StartArray();
    for (const MentionRow& m : page.mentions) {
      w.StartObject();
      w.Key("id");
      w.Int64(m.id);
      w.Key("kind");
      w.String(m.kind.data(), static_cast<rapidjson::SizeType>(m.kind.size()));
      w.Key("read");
      w.Bool(m.read);
      w.Key("room");
      w.StartObject();
      w.Key("id");
      w.Int64(m.room);
      w.Key("name");
      w.String(m.room_name.data(), static_cast<rapidjson::SizeType>(m.room_name.size()));
      w.EndObject();
      w.Key("message");
      if (m.message) {
        std::string frame = EncodeMessageFrame(*m.message);
        w.RawValue(frame.data(), frame.size(), rapidjson::kObjectType);
      } else {
        w.StartObject();
        w.Key("id");
        w.String(m.message_id.data(), static_cast<rapidjson::SizeType>(m.message_id.size()));
        w.EndObject();
      }
      w.EndObject();
    }
    w.EndArray();
    w.Key("unread");
    w.Int64(page.unread);
    w.Key("next_before");
    if (static_cast<int>(page.mentions.size()) == limit) w.Int64(page.mentions.back().id);
    else w.Null();
    w.EndObject();
  });
}

void ListMentions(Connection& conn, const http::Request& req, const TokenUser& user) {
  int64_t limit = 50, before = 0;
  bool unread_only = false;
  if (auto u = req.QueryParam("unread")) {
    if (*u != "true" && *u != "false")
      return conn.RespondError(Status::InvalidArgument("bad_unread", "unread must be true or false"));
    unread_only = *u == "true";
  }
  if (!req.QueryInt("limit", &limit) || limit < 1 || limit > 100)
    return conn.RespondError(Status::InvalidArgument("bad_limit", "limit must be an integer from 1 to 100"));
  if (auto b = req.QueryParam("before"); b && (!http::ParseInt(*b, &before) || before < 1))
    return conn.RespondError(Status::InvalidArgument("bad_before", "before must be a mention id"));
  OnDb<std::string>(
      conn, [uid = user.id, unread_only, before, limit](PgConn& pg) -> Result<std::string> {
        auto page = GetMentions(pg, uid, unread_only, before, static_cast<int>(limit));
        if (!page.ok()) return page.status();
        return MentionsJson(*page, static_cast<int>(limit));
      },
      [](Reply reply, Result<std::string> json) { reply(json); });
}

}  // namespace

void HandleMentionsRequest(Connection& conn, const http::Request& req, const TokenUser& user) {
  if (req.path == "/api/users/me/mentions")
    return AdmitDatabaseRead(conn, user.id, [req, user](Connection& c) { ListMentions(c, req, user); });
  // /api/mentions/{id}/read
  std::string_view rest = std::string_view(req.path).substr(std::string_view("/api/mentions/").size());
  size_t slash = rest.find('/');
  int64_t id = 0;
  if (slash == std::string_view::npos || rest.substr(slash) != "/read" || !http::ParseInt(rest.substr(0, slash), &id))
    return conn.RespondError(Status::NotFound("not_found", "no such endpoint: " + req.method + " " + req.path));
  OnDb<bool>(
      conn, [uid = user.id, id](PgConn& pg) -> Result<bool> {
        if (Status s = MarkMentionRead(pg, uid, id); !s.ok()) return s;
        return true;
      },
      [](Reply reply, Result<bool> done) {
        if (!done.ok()) return reply(done.status());
        if (Connection* c = reply.loop->FindConnection(reply.conn_id)) c->Respond(204, "application/json", "");
      });
}

}  // namespace chatpipe
