// The part of a chat.messages range that the topic no longer keeps, read back from PostgreSQL for
// `chatpipe replay --fallback-db`, as the events the topic held.
//
// Per partition that retention cut, the part is the messages of the rooms keyed to that partition with
// from <= ts < to and an id below the first event the partition still keeps (none: the partition
// keeps nothing, so all of them). Each row becomes its ChatEvent again (EncodeChatEvent), so the bytes
// are those ingress produced: ids, names, text, client_msg_id; tags only for rooms that tag inline
// (mask, block), as ingress does. Rows come in (room, pos) order, which is each room's partition order.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>
#include <optional>
#include <string_view>

#include "common/status.h"
#include "storage/pg.h"

namespace chatpipe {

struct DbFallback {
  int64_t from_ms = 0, to_ms = 0;  // [from, to) on the event's ts
  std::vector<int64_t> rooms;      // only these rooms (--room); empty: every room
  // Partition -> the id of the first event it keeps (nullopt: it keeps none). Others are not read.
  std::map<int32_t, std::optional<uint64_t>> cuts;
  std::function<int32_t(int64_t room)> partition_of;
};

// Calls `sink(room, event_json)` for each event of the part, until done or `stop`; the number sunk.
Result<int64_t> ReplayFromDb(PgConn& pg, const DbFallback& part,
                             const std::function<void(int64_t room, std::string_view event)>& sink,
                             const std::atomic<bool>& stop);

}  // namespace chatpipe
