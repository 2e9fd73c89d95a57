// The pixel board's HTTP routes (docs/board.md, docs/protocol.md): its meta, the whole board, a
// pixel's story, and placements; and the one placement path that the route and the WebSocket's
// `place` frame (ws_session.cc) share. The reads need no token (the board is public and a CDN may
// cache it) and are rate-limited per client address; a placement needs a token (guests' too), passes
// the user's cooldown in Redis, and is answered (202, or a `placed` frame) once Kafka has it.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <functional>

#include "common/board.h"
#include "common/events.h"
#include "common/status.h"
#include "common/token.h"
#include "ingress/http_request.h"

namespace chatpipe {

class Connection;
class Loop;

// Placements of one WebSocket awaiting their answer; one more is refused `busy`. A person places one
// pixel per cooldown; the bound only stops a script from piling work on the loop without waiting.
inline constexpr int kPlacementsInFlight = 16;

// The placement `user` asks for in the members x, y and color of `doc` (a request's body or a
// frame, its other members already checked): bad_field when one is missing or no integer, bad_pixel
// off the board or its palette (the worker's own rule, BoardConfig::CheckPixel).
Result<PixelPlacement> ReadPlacement(const rapidjson::Document& doc, const BoardConfig& board, int64_t user);

// What became of a placement: in Kafka (`status` ok, `placement` with its id and time), inside the
// user's cooldown (`rate_limited`, `retry_after_ms` > 0), or refused with `status` (Redis away, so
// the cooldown cannot be checked; Kafka away or refusing; the loop busy).
struct PlaceOutcome {
  Status status;
  int64_t retry_after_ms = 0;
  PixelPlacement placement;
};

// The one placement path: the user's cooldown (one Redis SET NX, for every ingress), an id and
// the time, then Kafka; a placement Kafka refuses gives the cooldown back. `done` runs once, on the
// loop, whether or not the asking connection is still open: the caller looks it up again.
void PlacePixel(Loop& loop, PixelPlacement placement, std::function<void(const PlaceOutcome&)> done);

// GET /api/board/meta
void BoardMetaRoute(Connection& conn);
// GET /api/board[?v=N]
void BoardRoute(Connection& conn, const http::Request& req);
// GET /api/board/pixels/{x}/{y}
void PixelStoryRoute(Connection& conn, const http::Request& req, int x, int y);
// PUT /api/board/pixels
void PlacePixelRoute(Connection& conn, const http::Request& req, const TokenUser& user);

}  // namespace chatpipe
