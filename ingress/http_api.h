// The HTTP/JSON API (docs/protocol.md): users and sessions, rooms and members, message history and
// posting, health and metrics, the WebSocket upgrade, and the browser client's static files.
#pragma once

#include "ingress/http_request.h"

namespace chatpipe {

class Connection;

// Answers one request on `conn`, now or later (conn.Respond* once done).
void HandleHttpRequest(Connection& conn, http::Request request);

}  // namespace chatpipe
