// Sessions: a login (password or guest) issues a token naming a new session; POST /api/sessions/renew
// issues a fresh token of the same session; DELETE /api/sessions logs out, ending the session on
// every instance, with every token it was renewed into.
//
// An ended session is a Redis key (SessionEndedKey) that lives as long as any token of the session
// could still be valid: --token-ttl-s from the logout, since a renewal made just before it lasts that
// long. So the keys clean themselves up and need no table. A session id rather than the token itself
// is what is ended, so that a renewed token does not outlive its logout. Every authenticated request
// asks Redis about its session (CheckSessionLive: EXISTS, one round trip on the loop's command link,
// no thread blocked). With Redis away the request is let through on its signature and expiry alone
// (and counted): refusing everyone would turn a Redis restart into failed sends and reconnects for
// every client, while what it lets through is only a token logged out and then used within the
// outage, which still expires within --token-ttl-s. WebSocket messages are
// not checked one by one: the upgrade is, and a logout publishes SessionEndedFrame on the user's
// channel, on which every loop holding a WebSocket of that session closes it (UserHub); a loop checks
// each WebSocket's session once more once its subscription to that channel is confirmed, for a
// logout published before the loop could hear it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/token.h"
#include "storage/chat_store.h"

namespace chatpipe {

class Connection;
class Loop;
struct Services;

// What a logout publishes on the user's channel: {"type":"session_ended","session":"<id>"}. Never
// forwarded to clients; SessionOfEndedFrame gives the id of such a payload, or "" for any other.
std::string SessionEndedFrame(std::string_view session);
std::string_view SessionOfEndedFrame(std::string_view payload);

// {token, expires, user} for a new login of `user`.
std::string SessionJson(Services& services, const UserRow& user);
// `done` gets ok, or 401 when the session was logged out; ok when Redis cannot say (see above).
void CheckSessionLive(Loop& loop, std::string_view session, std::function<void(Status)> done);
// DELETE /api/sessions: 204, or 503 when Redis cannot record it.
void EndSessionRoute(Connection& conn, const TokenUser& user);
// POST /api/sessions/renew: 200 {token, expires, user}, the token good for --token-ttl-s from now.
void RenewSessionRoute(Connection& conn, const TokenUser& user);

}  // namespace chatpipe
