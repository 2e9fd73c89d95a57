// The mentions inbox over HTTP (docs/protocol.md): GET /api/users/me/mentions?unread=&limit=&before=
// lists the token user's mentions newest first; POST /api/mentions/{id}/read marks one read (204).
// The mention worker writes the rows and pushes live "notification" frames.
#pragma once

#include "common/token.h"
#include "ingress/http_request.h"

namespace chatpipe {

class Connection;

void HandleMentionsRequest(Connection& conn, const http::Request& req, const TokenUser& user);

}  // namespace chatpipe
