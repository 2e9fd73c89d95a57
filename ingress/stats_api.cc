#include "ingress/stats_api.h"

#include "common/message_id.h"
#include "ingress/api_support.h"
#include "storage/room_stats.h"

namespace chatpipe {

void RoomStatsRoute(Connection& conn, const http::Request& req, int64_t room) {
  auto range = ParseStatsRange(req.QueryParam("from"), req.QueryParam("to"), req.QueryParam("bucket"),
                               static_cast<int64_t>(NowMs()));
  if (!range.ok()) return conn.RespondError(range.status());
  OnDb<std::string>(
      conn, [room, r = *range](PgConn& pg) -> Result<std::string> {
        auto stats = QueryRoomStats(pg, room, r);
        if (!stats.ok()) return stats.status();
        return RoomStatsJson(*stats);
      },
      [](Reply reply, Result<std::string> json) { reply(json); });
}

}  // namespace chatpipe
