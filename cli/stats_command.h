// `chatpipe stats`: a room's statistics (storage/room_stats.h) from PostgreSQL, for analysts and
// operators: the same figures, parameters and refusals as GET /api/rooms/{id}/stats, as its JSON or
// as a table. Reads the database directly, so it checks no membership: whoever holds the conninfo
// sees every room.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "storage/room_stats.h"

namespace chatpipe {

// One line per bucket (UTC start, messages, active users, tagged, mean sentiment, negative and
// profane shares), a totals line, then the top mentioned users.
std::string StatsTable(const RoomStats& stats);
void AddStatsCommand(CLI::App& app);

}  // namespace chatpipe
