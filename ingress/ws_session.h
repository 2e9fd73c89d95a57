// The chat protocol over WebSocket (docs/protocol.md): join, leave and send frames from a client, the
// pixel board's subscribe and place frames, and the ack, placed and error frames that answer them.
// Room fan-out itself is RoomHub's, the board's BoardHub's; a placement takes board_api.h's path.
#pragma once

#include <string_view>

namespace chatpipe {

class Connection;

// One complete text message from an upgraded connection (already valid UTF-8).
void HandleWebSocketText(Connection& conn, std::string_view text);

}  // namespace chatpipe
