// The chat protocol over WebSocket (docs/protocol.md): join, leave and send frames from a client, and
// the ack and error frames that answer them. Room fan-out itself is RoomHub's.
#pragma once

#include <string_view>

namespace chatpipe {

class Connection;

// One complete text message from an upgraded connection (already valid UTF-8).
void HandleWebSocketText(Connection& conn, std::string_view text);

}  // namespace chatpipe
