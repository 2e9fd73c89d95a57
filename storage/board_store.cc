#include "storage/board_store.h"

#include <algorithm>

#include "common/message_id.h"

namespace chatpipe {

// Pixels are read and written in chunks of at most kBoardApplyMax: BITFIELD takes its operations as
// arguments, and unpack() stops at a few thousand.
const char* const kBoardApplyScript = R"lua(
local n = (#ARGV - 1) / 6
local shown, order = {}, {}
for i = 0, n - 1 do
  local idx = ARGV[i * 6 + 1]
  if shown[idx] == nil then shown[idx] = false; order[#order + 1] = idx end
end
for s = 1, #order, 500 do
  local e = math.min(s + 499, #order)
  local ops = {}
  for k = s, e do
    local at = tonumber(order[k]) * 2
    ops[#ops + 1] = 'GET'; ops[#ops + 1] = 'u32'; ops[#ops + 1] = '#' .. at
    ops[#ops + 1] = 'GET'; ops[#ops + 1] = 'u32'; ops[#ops + 1] = '#' .. (at + 1)
  end
  local r = redis.call('BITFIELD', KEYS[2], unpack(ops))
  for k = s, e do shown[order[k]] = {r[(k - s) * 2 + 1], r[(k - s) * 2 + 2]} end
end
local colours, ids, pixels = {}, {}, {}
for i = 0, n - 1 do
  local b = i * 6
  local idx, colour = ARGV[b + 1], ARGV[b + 2]
  local hi, lo = tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4])
  local cur = shown[idx]
  if hi > cur[1] or (hi == cur[1] and lo > cur[2]) then
    shown[idx] = {hi, lo}
    local at = tonumber(idx) * 2
    colours[#colours + 1] = '#' .. idx; colours[#colours + 1] = colour
    ids[#ids + 1] = '#' .. at; ids[#ids + 1] = ARGV[b + 3]
    ids[#ids + 1] = '#' .. (at + 1); ids[#ids + 1] = ARGV[b + 4]
    pixels[#pixels + 1] = '[' .. ARGV[b + 5] .. ',' .. ARGV[b + 6] .. ',' .. colour .. ']'
  end
end
-- A board without a version is new, or Redis lost it: versions start at the time (ARGV past the
-- placements), above any a lost board reached, so clients never take new frames for old ones. Its
-- first frame comes from version 0, the empty board, which is what a client reads of it meanwhile.
local fresh = 0
if redis.call('EXISTS', KEYS[3]) == 0 then
  redis.call('SET', KEYS[3], ARGV[#ARGV])
  fresh = 1
end
if #pixels == 0 then return {0, tonumber(redis.call('GET', KEYS[3])), fresh} end
local function set(key, fields, width)
  for s = 1, #fields, 1000 do
    local ops = {}
    for k = s, math.min(s + 999, #fields), 2 do
      ops[#ops + 1] = 'SET'; ops[#ops + 1] = width; ops[#ops + 1] = fields[k]; ops[#ops + 1] = fields[k + 1]
    end
    redis.call('BITFIELD', key, unpack(ops))
  end
end
set(KEYS[1], colours, 'u4')
set(KEYS[2], ids, 'u32')
local v = redis.call('INCR', KEYS[3])
local prev = v - 1
if fresh == 1 then prev = 0 end
redis.call('PUBLISH', KEYS[4], '{"type":"pixels","prev":' .. prev .. ',"v":' .. v .. ',"pixels":[' ..
  table.concat(pixels, ',') .. ']}')
return {#pixels, v, fresh}
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

std::vector<std::string> BoardApplyArgs(const std::vector<PixelPlacement>& placements, int width, int64_t now_ms) {
  std::vector<std::string> args;
  args.reserve(placements.size() * 6 + 1);
  for (const PixelPlacement& p : placements) {
    args.push_back(std::to_string(static_cast<uint64_t>(p.y) * width + p.x));
    args.push_back(std::to_string(p.color));
    args.push_back(std::to_string(p.id >> 32));
    args.push_back(std::to_string(p.id & 0xffffffffu));
    args.push_back(std::to_string(p.x));
    args.push_back(std::to_string(p.y));
  }
  args.push_back(std::to_string(now_ms));
  return args;
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

Status StorePlacements(PgConn& pg, const std::vector<PixelPlacement>& placements) {
  if (placements.empty()) return Status::Ok();
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
    // A restored board is a new version above any a client holds (see kBoardApplyScript).
    const int64_t old_version = version.empty() ? 0 : std::stoll(version);
    redis.AppendScript(kBoardRestoreScript, keys,
                       {version, colours, ids, std::to_string(std::max(old_version + 1, now_ms))});
    if (Status s = redis.Flush(&replies); !s.ok()) return s;
    if (replies.at(0).type == REDIS_REPLY_INTEGER && replies.at(0).integer == 1) return true;
  }
  return Status::Unavailable("board_busy", "the board kept changing while it was restored; try again");
}

}  // namespace chatpipe
