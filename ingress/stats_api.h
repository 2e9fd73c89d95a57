// A room's statistics over HTTP (docs/protocol.md, "Room statistics"): GET /api/rooms/{id}/stats
// ?from=&to=&bucket=minute|hour|day, answered from storage/room_stats.h on a DbPool thread. The caller
// has checked that the user may read the room (RoomAccess).
#pragma once

#include <cstdint>

#include "ingress/http_request.h"

namespace chatpipe {

class Connection;

void RoomStatsRoute(Connection& conn, const http::Request& req, int64_t room);

}  // namespace chatpipe
