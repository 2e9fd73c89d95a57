// The pixel board's HTTP routes (docs/board.md, docs/protocol.md): its meta, the whole board, a
// pixel's story, and placements. The reads need no token (the board is public and a CDN may cache
// it) and are rate-limited per client address; a placement needs a token (guests' too), passes the
// user's cooldown in Redis, and is answered 202 once Kafka has it.
#pragma once

#include <cstdint>

#include "common/token.h"
#include "ingress/http_request.h"

namespace chatpipe {

class Connection;

// GET /api/board/meta
void BoardMetaRoute(Connection& conn);
// GET /api/board[?v=N]
void BoardRoute(Connection& conn, const http::Request& req);
// GET /api/board/pixels/{x}/{y}
void PixelStoryRoute(Connection& conn, const http::Request& req, int x, int y);
// PUT /api/board/pixels
void PlacePixelRoute(Connection& conn, const http::Request& req, const TokenUser& user);

}  // namespace chatpipe
