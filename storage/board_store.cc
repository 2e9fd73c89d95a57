#include "storage/board_store.h"

#include "common/message_id.h"

namespace chatpipe {

// Pixels are read and written in chunks of at most kBoardApplyMax: BITFIELD takes its operations as
// arguments, and unpack() stops at a few thousand.
const char* const kBoardApplyScript = R"lua(
local n = #ARGV / 6
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
if #pixels == 0 then return {0, tonumber(redis.call('GET', KEYS[3]) or '0')} end
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
redis.call('PUBLISH', KEYS[4], '{"type":"pixels","prev":' .. (v - 1) .. ',"v":' .. v .. ',"pixels":[' ..
  table.concat(pixels, ',') .. ']}')
return {#pixels, v}
)lua";

const char* const kBoardReadScript = R"lua(
return {redis.call('GET', KEYS[2]) or '0', redis.call('GET', KEYS[1]) or ''}
)lua";

std::vector<std::string> BoardApplyArgs(const std::vector<PixelPlacement>& placements, int width) {
  std::vector<std::string> args;
  args.reserve(placements.size() * 6);
  for (const PixelPlacement& p : placements) {
    args.push_back(std::to_string(static_cast<uint64_t>(p.y) * width + p.x));
    args.push_back(std::to_string(p.color));
    args.push_back(std::to_string(p.id >> 32));
    args.push_back(std::to_string(p.id & 0xffffffffu));
    args.push_back(std::to_string(p.x));
    args.push_back(std::to_string(p.y));
  }
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

}  // namespace chatpipe
