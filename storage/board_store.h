// The pixel board's storage (docs/board.md): its Redis names and scripts, and its PostgreSQL history.
//
// Redis holds the live board: the colours (a bitfield of 4-bit fields, BoardKey), beside each pixel
// the id of the placement that set it (two 32-bit fields, BoardIdsKey: Lua's numbers hold 53 bits, so
// a 63-bit id is kept and compared in halves), the board's version (BoardVersionKey) and the channel
// its changes are published on (BoardChannel). kBoardApplyScript applies a batch in one atomic step;
// kBoardReadScript reads colours and version in one. PostgreSQL holds every placement applied
// (board_placements, migration 012), the board's history. Stateless functions; the caller owns the
// connections.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/events.h"
#include "common/status.h"
#include "storage/board_history.h"
#include "storage/pg.h"
#include "storage/redis_client.h"

namespace chatpipe {

// The board's names share the hash tag {board}: its scripts read and write them together.
inline std::string BoardKey(const std::string& p) { return p + "{board}"; }
inline std::string BoardIdsKey(const std::string& p) { return p + "{board}:ids"; }
inline std::string BoardVersionKey(const std::string& p) { return p + "{board}:version"; }
inline std::string BoardChannel(const std::string& p) { return p + "{board}:pixels"; }

// Applies placements, each only if its id is above the one its pixel shows (and above any earlier
// one of the same pixel in this call), so a call is idempotent and order does not matter. When any
// pixel changed it raises the version by one and PUBLISHes
//   {"type":"pixels","prev":V-1,"v":V,"pixels":[[x,y,color],...]}
// with the placements that changed a pixel, in order. A board without a version (new, or lost by
// Redis) starts at the time in ms, above any version a lost board reached, so a client holding an old
// board never takes new frames for old ones; its first frame says prev 0 (the empty board). Returns {changed, version, fresh}: fresh is 1 when the
// version had to start (a lost board is then restored from PostgreSQL: RestoreBoard).
// KEYS: BoardKey, BoardIdsKey, BoardVersionKey, BoardChannel.
// ARGV: six per placement: pixel index, colour, id >> 32, id & 0xffffffff, x, y; then now in ms
// (BoardApplyArgs).
extern const char* const kBoardApplyScript;
// Most placements per kBoardApplyScript call: its BITFIELD calls stay far below Lua's unpack limit.
inline constexpr size_t kBoardApplyMax = 500;
std::vector<std::string> BoardApplyArgs(const std::vector<PixelPlacement>& placements, int width, int64_t now_ms);

// Returns {version, colours}: the version as a decimal string ("0" before the first placement) and
// the bitfield's bytes (shorter than the board when its last pixels were never set).
// KEYS: BoardKey, BoardVersionKey.
extern const char* const kBoardReadScript;

// Merges `history` (the board rebuilt from PostgreSQL: BoardAt) into the Redis board, pixel by pixel
// by the same rule (the higher id wins), for a board Redis lost. Raises the version to at least
// `now_ms`, so clients fetch the board again. True when a pixel changed.
Result<bool> RestoreBoard(RedisClient& redis, const std::string& prefix, const BoardImage& history, int64_t now_ms);

// Inserts the placements into board_placements, one statement, ON CONFLICT (id) DO NOTHING.
Status StorePlacements(PgConn& pg, const std::vector<PixelPlacement>& placements);

struct PixelHistoryEntry {
  uint64_t id = 0;
  int64_t user = 0;
  std::string name;  // "" when the user is gone
  int color = 0;
  int64_t ts_ms = 0;
};
// The last `limit` placements of pixel (x, y), newest (highest id) first.
Result<std::vector<PixelHistoryEntry>> PixelHistory(PgConn& pg, int x, int y, int limit);

}  // namespace chatpipe
