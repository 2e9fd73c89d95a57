#include "ingress/api_support.h"

#include <chrono>

#include "ingress/sessions_api.h"

namespace chatpipe {

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string Json(const std::function<void(JsonWriter&)>& body) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  body(w);
  return std::string(buf.GetString(), buf.GetSize());
}

void WriteUserFields(JsonWriter& w, int64_t id, const std::string& name, bool guest) {
  w.Key("id");
  w.Int64(id);
  w.Key("name");
  w.String(name.c_str());
  w.Key("guest");
  w.Bool(guest);
}

void WriteUser(JsonWriter& w, const UserRow& u) {
  w.StartObject();
  WriteUserFields(w, u.id, u.name, u.guest);
  w.EndObject();
}

void WriteRoom(JsonWriter& w, const RoomRow& r) {
  w.StartObject();
  WriteRoomFields(w, r);
  w.EndObject();
}

void WriteRoomFields(JsonWriter& w, const RoomRow& r) {
  w.Key("id");
  w.Int64(r.id);
  w.Key("name");
  w.String(r.name.c_str());
  w.Key("private");
  w.Bool(r.is_private);
  w.Key("moderation");
  w.StartObject();
  w.Key("mild");
  w.String(PolicyName(r.moderation.mild));
  w.Key("strong");
  w.String(PolicyName(r.moderation.strong));
  w.EndObject();
}

void Reply::operator()(int status, const std::string& json) const {
  if (Connection* c = loop->FindConnection(conn_id)) c->RespondJson(status, json);
}

void Reply::operator()(const Status& error) const {
  if (Connection* c = loop->FindConnection(conn_id)) c->RespondError(error);
}

void Reply::operator()(const Result<std::string>& body) const {
  if (!body.ok()) return (*this)(body.status());
  (*this)(200, *body);
}

Result<TokenUser> SignedUser(Connection& conn, const http::Request& req, bool query_token) {
  std::string token;
  if (const std::string* auth = req.Header("authorization"); auth && auth->rfind("Bearer ", 0) == 0)
    token = auth->substr(7);
  else if (auto q = query_token ? req.QueryParam("token") : std::nullopt)
    token = *q;
  if (token.empty()) return Status::Unauthenticated("missing bearer token");
  return conn.loop().services().signer.Verify(token, NowSeconds());
}

void Authenticate(Connection& conn, const http::Request& req, Authenticated then, bool query_token) {
  auto user = SignedUser(conn, req, query_token);
  if (!user.ok()) return conn.RespondError(user.status());
  Loop* loop = &conn.loop();
  CheckSessionLive(*loop, user->session, [loop, id = conn.id(), user = *user, then = std::move(then)](Status live) {
    Connection* c = loop->FindConnection(id);
    if (!c) return;
    if (!live.ok()) return c->RespondError(live);
    then(*c, user);
  });
}

}  // namespace chatpipe
