// The pixel board's storage (docs/board.md): its Redis names and scripts, and its PostgreSQL history.
//
// Redis holds the live board: the colours (a bitfield of 4-bit fields, BoardKey), beside each pixel
// the id of the placement that set it (a signed 64-bit field, big-endian, BoardIdsKey: ids stay below
// 2^63), the board's version (BoardVersionKey) and the channel its changes are published on
// (BoardChannel). A batch is compared in the worker and written in one atomic step
// (ApplyPlacements); kBoardReadScript reads colours and version in one. PostgreSQL holds every placement applied
// (board_placements, migration 012), the board's history. Stateless functions; the caller owns the
// connections.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/board.h"
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
// A user's cooldown: there while the user may not place (SET NX PX by ingress). No hash tag: users
// spread over the shards.
inline std::string BoardCooldownKey(const std::string& p, int64_t user) {
  return p + "board:cooldown:" + std::to_string(user);
}

// What a board shows of a batch's pixels before it is applied: the version as Redis holds it ("" for a
// board without one) and, per pixel index, the id of the placement it shows (0 for none).
struct BoardShown {
  std::string version;
  std::unordered_map<uint64_t, uint64_t> ids;
};
Result<BoardShown> ReadShown(RedisClient& redis, const std::string& prefix, const std::vector<PixelPlacement>& placements,
                             const BoardConfig& board);

// What a batch changes: each placement whose id is above the one its pixel shows (and above any
// earlier one of the same pixel in the batch) changes it. The frame lists them in order; the fields
// set each changed pixel once, to its highest placement.
struct BoardChange {
  int64_t changed = 0;                     // placements that change a pixel
  std::string pixels;                      // the frame's "[x,y,color],..."
  std::vector<std::string> colour_fields;  // BITFIELD SET u4 #pixel colour, four arguments a pixel
  std::vector<std::string> id_fields;      // BITFIELD SET i64 #pixel id
};
BoardChange PlanChange(const std::vector<PixelPlacement>& placements, const BoardConfig& board, BoardShown shown);

struct BoardApplied {
  int64_t changed = 0;
  int64_t version = 0;  // after the change; 0 when nothing changed
  bool fresh = false;   // the board had no version: Redis lost it (RestoreBoard) or it is new
};
// Writes `change` in one atomic step, if the board's version is still `version` (as ReadShown gave
// it): the fields, the version raised by one, and one PUBLISH on BoardChannel of
//   {"type":"pixels","prev":V-1,"v":V,"pixels":[[x,y,color],...]}
// A board without a version (new, or lost by Redis) starts at `now_ms`, above any version a lost
// board reached, so a client holding an old board never takes new frames for old ones; its first
// frame says prev 0 (the empty board). Empty when the version moved meanwhile: read again.
Result<std::optional<BoardApplied>> WriteChange(RedisClient& redis, const std::string& prefix, const BoardChange& change,
                                                const std::string& version, int64_t now_ms);

// ReadShown, PlanChange and WriteChange, again while another writer moves the version. So a call is
// idempotent and order does not matter: a replay finds every id shown and writes nothing.
Result<BoardApplied> ApplyPlacements(RedisClient& redis, const std::string& prefix,
                                     const std::vector<PixelPlacement>& placements, const BoardConfig& board,
                                     int64_t now_ms);

// Returns {version, colours}: the version as a decimal string ("0" before the first placement) and
// the bitfield's bytes (shorter than the board when its last pixels were never set).
// KEYS: BoardKey, BoardVersionKey.
extern const char* const kBoardReadScript;

// Merges `history` (the board rebuilt from PostgreSQL: BoardAt) into the Redis board, pixel by pixel
// by the same rule (the higher id wins), for a board Redis lost. Raises the version to at least
// `now_ms`, so clients fetch the board again. True when a pixel changed.
Result<bool> RestoreBoard(RedisClient& redis, const std::string& prefix, const BoardImage& history, int64_t now_ms);

// Inserts the placements into board_placements with one binary COPY; when one of their ids is already
// there (a replay), with one INSERT ... ON CONFLICT (id) DO NOTHING instead.
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
