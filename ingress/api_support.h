// What the HTTP API's route files share: JSON writing, the deferred reply of a request whose answer
// comes from another thread, a database round trip for a route, and bearer-token authentication.
//
// A route never keeps a Connection pointer across threads: it keeps a Reply (loop + connection id),
// and the reply is dropped if the connection closed meanwhile.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "common/token.h"
#include "ingress/connection.h"
#include "ingress/db_round_trip.h"
#include "ingress/http_request.h"
#include "ingress/loop.h"
#include "storage/chat_store.h"

namespace chatpipe {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

std::string Json(const std::function<void(JsonWriter&)>& body);
// A user object; WriteUserFields writes its fields alone, for objects that add their own after them.
void WriteUser(JsonWriter& w, const UserRow& u);
void WriteUserFields(JsonWriter& w, int64_t id, const std::string& name, bool guest);
// A room object; WriteRoomFields writes its fields alone, for objects that add their own after them.
void WriteRoom(JsonWriter& w, const RoomRow& r);
void WriteRoomFields(JsonWriter& w, const RoomRow& r);
int64_t NowSeconds();

struct Reply {
  Loop* loop;
  uint64_t conn_id;
  void operator()(int status, const std::string& json) const;
  void operator()(const Status& error) const;
  void operator()(const Result<std::string>& body) const;  // 200 with the body, or the error
};

// RunOnDb for a route: `then` gets the result, or Busy(), with the Reply of `conn`'s request.
template <typename T>
void OnDb(Connection& conn, std::function<Result<T>(PgConn&)> job, std::function<void(Reply, Result<T>)> then) {
  Reply reply{&conn.loop(), conn.id()};
  RunOnDb<T>(conn.loop().tasks(), conn.loop().db(), std::move(job),
             [reply, then = std::move(then)](Result<T> result) { then(reply, std::move(result)); });
}

// Checks the request's bearer token: its signature and expiry, then (a Redis round trip on the loop)
// that its session was not logged out (sessions_api.h). `then` runs later on the loop with the
// connection, if it is still open, and the token's user; on failure a 401 has been answered instead. The token comes from "Authorization: Bearer"; only where
// `query_token` is true (the WebSocket, which browsers cannot give headers) also from ?token=.
using Authenticated = std::function<void(Connection&, const TokenUser&)>;
void Authenticate(Connection& conn, const http::Request& req, Authenticated then, bool query_token = false);
// The user a request's bearer token names (Authorization: Bearer, or with `query_token` a ?token=),
// if this service signed it and it has not expired. No I/O: whether it was logged out is Authenticate's.
Result<TokenUser> SignedUser(Connection& conn, const http::Request& req, bool query_token = false);

}  // namespace chatpipe
