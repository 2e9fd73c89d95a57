#include "storage/board_store.h"

#include <algorithm>
#include <unordered_map>

#include "common/message_id.h"

namespace chatpipe {

// The write half of ApplyPlacements: the reads and the comparisons happen in the worker (C++), so
// Redis's one thread only parses BITFIELD fields. ARGV: the version the worker read ('' for none), now
// in ms, the frame's pixels, how many colour arguments follow, then the colour fields (SET u4 #p c ...)
// and the id fields (SET i64 #p id ...). Fields go to BITFIELD 4,000 arguments (1,000 fields) at a
// time, below Lua's unpack limit.
const char* const kBoardWriteScript = R"lua(
local version = redis.call('GET', KEYS[3]) or ''
if version ~= ARGV[1] then return {0, 0, 0} end
local fresh = 0
if version == '' then
  redis.call('SET', KEYS[3], ARGV[2])
  fresh = 1
end
local function set(key, first, last)
  for s = first, last, 4000 do redis.call('BITFIELD', key, unpack(ARGV, s, math.min(s + 3999, last))) end
end
local split = 4 + tonumber(ARGV[4])
set(KEYS[1], 5, split)
set(KEYS[2], split + 1, #ARGV)
local v = redis.call('INCR', KEYS[3])
local prev = v - 1
if fresh == 1 then prev = 0 end
redis.call('PUBLISH', KEYS[4], '{"type":"pixels","prev":' .. prev .. ',"v":' .. v .. ',"pixels":[' .. ARGV[3] .. ']}')
return {1, v, fresh}
)lua";

const char* const kBoardSnapshotScript = R"lua(
return {redis.call('GET', KEYS[3]) or '', redis.call('GET', KEYS[1]) or '', redis.call('GET', KEYS[2]) or ''}
)lua";

const char* const kBoardRestoreScript = R"lua(
if (redis.call('GET', KEYS[3]) or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('SET', KEYS[3], ARGV[4])
return 1
)lua";

const char* const kBoardReadScript = R"lua(
return {redis.call('GET', KEYS[2]) or '0', redis.call('GET', KEYS[1]) or ''}
)lua";

namespace {

// BITFIELD fields are read this many at a time: one reply array each.
constexpr size_t kFieldsPerRead = 1000;

std::string PixelField(uint64_t pixel) { return "#" + std::to_string(pixel); }

}  // namespace

Result<BoardShown> ReadShown(RedisClient& redis, const std::string& prefix, const std::vector<PixelPlacement>& placements,
                             const BoardConfig& board) {
  std::vector<uint64_t> pixels;
  BoardShown shown;
  for (const PixelPlacement& p : placements) {
    const uint64_t pixel = board.Index(p.x, p.y);
    if (shown.ids.emplace(pixel, 0).second) pixels.push_back(pixel);
  }
  redis.Append({"GET", BoardVersionKey(prefix)});
  for (size_t first = 0; first < pixels.size(); first += kFieldsPerRead) {
    std::vector<std::string> cmd = {"BITFIELD", BoardIdsKey(prefix)};
    for (size_t i = first; i < std::min(pixels.size(), first + kFieldsPerRead); ++i)
      cmd.insert(cmd.end(), {"GET", "i64", PixelField(pixels[i])});
    redis.Append(std::move(cmd));
  }
  std::vector<RedisReply> replies;
  if (Status s = redis.Flush(&replies); !s.ok()) return s;
  for (const RedisReply& r : replies)
    if (r.type == REDIS_REPLY_ERROR) return Status::Unavailable("redis_error", "board read: " + r.str);
  shown.version = replies[0].str;
  size_t next = 0;
  for (size_t k = 1; k < replies.size(); ++k)
    for (const RedisReply& id : replies[k].elements) shown.ids[pixels.at(next++)] = static_cast<uint64_t>(id.integer);
  if (next != pixels.size()) return Status::Unavailable("redis_error", "board read: short BITFIELD reply");
  return shown;
}

BoardChange PlanChange(const std::vector<PixelPlacement>& placements, const BoardConfig& board, BoardShown shown) {
  struct Winner {
    uint64_t id;
    int color;
  };
  std::unordered_map<uint64_t, Winner> winners;  // the pixels this batch changes
  std::vector<uint64_t> changed;                 // in the order they first changed
  BoardChange change;
  for (const PixelPlacement& p : placements) {
    const uint64_t pixel = board.Index(p.x, p.y);
    uint64_t& top = shown.ids[pixel];
    if (p.id <= top) continue;
    top = p.id;
    if (winners.insert_or_assign(pixel, Winner{p.id, p.color}).second) changed.push_back(pixel);
    if (change.changed++ > 0) change.pixels += ',';
    change.pixels += '[' + std::to_string(p.x) + ',' + std::to_string(p.y) + ',' + std::to_string(p.color) + ']';
  }
  change.colour_fields.reserve(changed.size() * 4);
  change.id_fields.reserve(changed.size() * 4);
  for (uint64_t pixel : changed) {
    const Winner& w = winners[pixel];
    change.colour_fields.insert(change.colour_fields.end(), {"SET", "u4", PixelField(pixel), std::to_string(w.color)});
    change.id_fields.insert(change.id_fields.end(), {"SET", "i64", PixelField(pixel), std::to_string(w.id)});
  }
  return change;
}

Result<std::optional<BoardApplied>> WriteChange(RedisClient& redis, const std::string& prefix, const BoardChange& change,
                                                const std::string& version, int64_t now_ms) {
  std::vector<std::string> args = {version, std::to_string(now_ms), change.pixels,
                                   std::to_string(change.colour_fields.size())};
  args.reserve(args.size() + change.colour_fields.size() + change.id_fields.size());
  args.insert(args.end(), change.colour_fields.begin(), change.colour_fields.end());
  args.insert(args.end(), change.id_fields.begin(), change.id_fields.end());
  redis.AppendScript(kBoardWriteScript,
                     {BoardKey(prefix), BoardIdsKey(prefix), BoardVersionKey(prefix), BoardChannel(prefix)},
                     std::move(args));
  std::vector<RedisReply> replies;
  if (Status s = redis.Flush(&replies); !s.ok()) return s;
  const RedisReply& r = replies.at(0);
  if (r.type != REDIS_REPLY_ARRAY || r.elements.size() != 3)
    return Status::Unavailable("redis_error", "board write: " + r.str);
  if (r.elements[0].integer == 0) return std::optional<BoardApplied>();
  return std::optional<BoardApplied>(BoardApplied{change.changed, r.elements[1].integer, r.elements[2].integer == 1});
}

Result<BoardApplied> ApplyPlacements(RedisClient& redis, const std::string& prefix,
                                     const std::vector<PixelPlacement>& placements, const BoardConfig& board,
                                     int64_t now_ms) {
  // Another worker may write between the read and the write: every write raises the version, so
  // the write is refused when it moved, and the batch is read again.
  for (int attempt = 0; attempt < 10; ++attempt) {
    auto shown = ReadShown(redis, prefix, placements, board);
    if (!shown.ok()) return shown.status();
    const std::string version = shown->version;
    BoardChange change = PlanChange(placements, board, std::move(*shown));
    if (change.changed == 0) return BoardApplied{.fresh = version.empty()};
    auto written = WriteChange(redis, prefix, change, version, now_ms);
    if (!written.ok()) return written.status();
    if (*written) return **written;
  }
  return Status::Unavailable("board_busy", "the board kept changing while a batch was applied; try again");
}

namespace {

// A PostgreSQL array literal of `placements`' field `get`, for $n::bigint[] and the like.
template <typename Get>
std::string ArrayOf(const std::vector<PixelPlacement>& placements, Get get) {
  std::string out = "{";
  for (const PixelPlacement& p : placements) {
    if (out.size() > 1) out += ',';
    out += std::to_string(get(p));
  }
  return out + "}";
}

}  // namespace

namespace {

template <typename T>
void PutBigEndian(std::string& out, T value) {
  for (int shift = 8 * (static_cast<int>(sizeof(T)) - 1); shift >= 0; shift -= 8)
    out += static_cast<char>((static_cast<uint64_t>(value) >> shift) & 0xff);
}

// COPY's binary format (PostgreSQL's "COPY", File Formats): a header, per row the field count and
// each field's length and big-endian value, a trailer.
std::string CopyRows(const std::vector<PixelPlacement>& placements) {
  constexpr int64_t kPgEpochMs = 946'684'800'000;  // timestamptz counts microseconds from 2000-01-01
  std::string out("PGCOPY\n\377\r\n\0", 11);
  PutBigEndian<int32_t>(out, 0);  // flags
  PutBigEndian<int32_t>(out, 0);  // header extension
  out.reserve(out.size() + placements.size() * 52 + 2);
  for (const PixelPlacement& p : placements) {
    PutBigEndian<int16_t>(out, 6);
    PutBigEndian<int32_t>(out, 8);
    PutBigEndian<uint64_t>(out, p.id);
    PutBigEndian<int32_t>(out, 4);
    PutBigEndian<int32_t>(out, p.x);
    PutBigEndian<int32_t>(out, 4);
    PutBigEndian<int32_t>(out, p.y);
    PutBigEndian<int32_t>(out, 2);
    PutBigEndian<int16_t>(out, static_cast<int16_t>(p.color));
    PutBigEndian<int32_t>(out, 8);
    PutBigEndian<int64_t>(out, p.user);
    PutBigEndian<int32_t>(out, 8);
    PutBigEndian<int64_t>(out, (static_cast<int64_t>(MessageIdGenerator::TimestampMs(p.id)) - kPgEpochMs) * 1000);
  }
  PutBigEndian<int16_t>(out, -1);
  return out;
}

}  // namespace

Status StorePlacements(PgConn& pg, const std::vector<PixelPlacement>& placements) {
  if (placements.empty()) return Status::Ok();
  // COPY is PostgreSQL's cheapest way in, but all or nothing: a batch holding an id stored before (a
  // replay, a restart) fails whole and goes in again by INSERT, which skips the ids already there.
  Status copied = pg.CopyIn("COPY board_placements (id, x, y, color, user_id, placed_at) FROM STDIN (FORMAT binary)",
                            CopyRows(placements));
  if (copied.code() != StatusCode::kAlreadyExists) return copied;
  auto r = pg.Exec(
      "INSERT INTO board_placements (id, x, y, color, user_id, placed_at) "
      "SELECT id, x, y, color, u, 'epoch'::timestamptz + ts * interval '1 millisecond' "
      "FROM unnest($1::bigint[], $2::int[], $3::int[], $4::smallint[], $5::bigint[], $6::bigint[]) "
      "AS t(id, x, y, color, u, ts) ON CONFLICT (id) DO NOTHING",
      {ArrayOf(placements, [](const PixelPlacement& p) { return p.id; }),
       ArrayOf(placements, [](const PixelPlacement& p) { return p.x; }),
       ArrayOf(placements, [](const PixelPlacement& p) { return p.y; }),
       ArrayOf(placements, [](const PixelPlacement& p) { return p.color; }),
       ArrayOf(placements, [](const PixelPlacement& p) { return p.user; }),
       ArrayOf(placements, [](const PixelPlacement& p) { return MessageIdGenerator::TimestampMs(p.id); })});
  return r.status();
}

Result<std::vector<PixelHistoryEntry>> PixelHistory(PgConn& pg, int x, int y, int limit) {
  auto r = pg.Exec(
      "SELECT p.id, p.user_id, coalesce(u.name, ''), p.color FROM board_placements p "
      "LEFT JOIN users u ON u.id = p.user_id WHERE p.y = $1 AND p.x = $2 ORDER BY p.id DESC LIMIT $3",
      {std::to_string(y), std::to_string(x), std::to_string(limit)});
  if (!r.ok()) return r.status();
  std::vector<PixelHistoryEntry> out;
  for (int row = 0; row < r->rows(); ++row) {
    PixelHistoryEntry e;
    e.id = std::strtoull(std::string(r->Text(row, 0)).c_str(), nullptr, 10);
    e.user = r->Int(row, 1);
    e.name = std::string(r->Text(row, 2));
    e.color = static_cast<int>(r->Int(row, 3));
    e.ts_ms = static_cast<int64_t>(MessageIdGenerator::TimestampMs(e.id));
    out.push_back(std::move(e));
  }
  return out;
}

namespace {

// A pixel's id in the ids bitfield: two big-endian 32-bit fields, so 8 big-endian bytes.
uint64_t IdAt(const std::string& ids, size_t pixel) {
  uint64_t id = 0;
  for (size_t i = pixel * 8; i < pixel * 8 + 8; ++i) id = id << 8 | (i < ids.size() ? static_cast<uint8_t>(ids[i]) : 0);
  return id;
}

void PutId(std::string& ids, size_t pixel, uint64_t id) {
  for (int i = 7; i >= 0; --i, id >>= 8) ids[pixel * 8 + static_cast<size_t>(i)] = static_cast<char>(id & 0xff);
}

int NibbleAt(const std::string& bytes, size_t pixel) {
  if (pixel / 2 >= bytes.size()) return 0;
  const auto b = static_cast<uint8_t>(bytes[pixel / 2]);
  return pixel % 2 == 0 ? b >> 4 : b & 0x0f;
}

void PutNibble(std::string& bytes, size_t pixel, int color) {
  auto b = static_cast<uint8_t>(bytes[pixel / 2]);
  b = pixel % 2 == 0 ? static_cast<uint8_t>((b & 0x0f) | color << 4) : static_cast<uint8_t>((b & 0xf0) | color);
  bytes[pixel / 2] = static_cast<char>(b);
}

}  // namespace

Result<bool> RestoreBoard(RedisClient& redis, const std::string& prefix, const BoardImage& history, int64_t now_ms) {
  const std::vector<std::string> keys = {BoardKey(prefix), BoardIdsKey(prefix), BoardVersionKey(prefix)};
  const size_t pixels = history.ids().size();
  // Another worker may apply batches meanwhile: merge with what Redis holds, and write only if its
  // version did not move since the read; else read again.
  for (int attempt = 0; attempt < 10; ++attempt) {
    redis.AppendScript(kBoardSnapshotScript, keys, {});
    std::vector<RedisReply> replies;
    if (Status s = redis.Flush(&replies); !s.ok()) return s;
    const RedisReply& r = replies.at(0);
    if (r.type != REDIS_REPLY_ARRAY || r.elements.size() != 3) return Status::Unavailable("redis_error", "board snapshot: " + r.str);
    const std::string& version = r.elements[0].str;
    std::string colours = r.elements[1].str, ids = r.elements[2].str;
    colours.resize((pixels + 1) / 2, '\0');
    ids.resize(pixels * 8, '\0');
    size_t taken = 0;
    for (size_t i = 0; i < pixels; ++i) {
      const uint64_t id = history.ids()[i];
      if (id <= IdAt(ids, i)) continue;
      PutId(ids, i, id);
      PutNibble(colours, i, NibbleAt(history.bytes(), i));
      ++taken;
    }
    if (taken == 0) return false;
    // A restored board is a new version above any a client holds (see ApplyPlacements).
    const int64_t old_version = version.empty() ? 0 : std::stoll(version);
    redis.AppendScript(kBoardRestoreScript, keys,
                       {version, colours, ids, std::to_string(std::max(old_version + 1, now_ms))});
    if (Status s = redis.Flush(&replies); !s.ok()) return s;
    if (replies.at(0).type == REDIS_REPLY_INTEGER && replies.at(0).integer == 1) return true;
  }
  return Status::Unavailable("board_busy", "the board kept changing while it was restored; try again");
}

}  // namespace chatpipe
