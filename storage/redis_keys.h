// The one naming scheme of chatpipe's Redis keys and channels (also in docs/storage.md).
// Every name starts with the deployment's namespace prefix ("" or "<ns>:"). With several Redis shards
// (--redis a,b,...) a name lives on the shard of its hash tag, the part in braces, or else of the whole
// name (storage/redis_shards.h): everything of one room shares the tag {<id>}, the board's names share
// {board}, the room list's {rooms}, so what a script or a join reads together is on one shard.
//
//   <p>room:{<id>}        channel: every event of a room, as the JSON frame clients receive
//   <p>room:{<id>}:last   list: the room's last kHistoryCap message frames, newest first
//   <p>{rooms}:list       string: the room list cache (JSON), kRoomsCacheTtlSeconds to live
//   <p>{rooms}:gen        integer: the room list's generation, counted up by every change
//   <p>user:<id>          channel: frames for every connection of one user (notification, ...)
//   <p>online:<uid>       sorted set: ingress instance ids holding a connection of the user, scored
//                         by expiry (ms since the epoch); the user is online while any score > now
//   <p>room:{<id>}:present  sorted set: user ids joined to the room on some connection, scored by expiry
//   <p>room:{<id>}:user:<uid>  sorted set: the ingress loops where the user has a joined connection in
//                         the room, scored by expiry: a presence frame names the user only when the
//                         first of them comes or the last goes
//   <p>session:<id>:ended  string: a logged-out session (ingress/sessions_api.h), kept while any of
//                         its tokens could still be valid
//   <p>limit:<what>:<who>   hash: a rate limit's token bucket (kTokenBucketScript), e.g.
//                         limit:sends:user:42, limit:guests:addr:10.0.0.7; gone once full again
//   <p>board:cooldown:<uid>  string: there while the user may not place a pixel (storage/board_store.h
//                         names the board's keys)
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/events.h"

namespace chatpipe {

inline constexpr int kHistoryCap = 10;
inline constexpr int kRoomsCacheTtlSeconds = 10;

inline std::string RoomChannel(const std::string& p, int64_t room) { return p + "room:{" + std::to_string(room) + "}"; }
// The room of a RoomChannel name, 0 for any other name.
inline int64_t RoomOfChannel(std::string_view p, std::string_view channel) {
  constexpr std::string_view kHead = "room:{";
  if (channel.substr(0, p.size()) != p) return 0;
  channel.remove_prefix(p.size());
  if (channel.substr(0, kHead.size()) != kHead || channel.back() != '}') return 0;
  const char* last = channel.data() + channel.size() - 1;
  int64_t room = 0;
  auto [end, err] = std::from_chars(channel.data() + kHead.size(), last, room);
  return err == std::errc() && end == last ? room : 0;
}
inline std::string RoomHistoryKey(const std::string& p, int64_t room) { return RoomChannel(p, room) + ":last"; }
inline std::string RoomsListKey(const std::string& p) { return p + "{rooms}:list"; }
inline std::string RoomsGenerationKey(const std::string& p) { return p + "{rooms}:gen"; }
inline std::string UserChannel(const std::string& p, int64_t user) { return p + "user:" + std::to_string(user); }
inline std::string OnlineKey(const std::string& p, int64_t user) { return p + "online:" + std::to_string(user); }
inline std::string RoomPresentKey(const std::string& p, int64_t room) { return RoomChannel(p, room) + ":present"; }
inline std::string RoomUserKey(const std::string& p, int64_t room, int64_t user) {
  return RoomChannel(p, room) + ":user:" + std::to_string(user);
}
inline std::string SessionEndedKey(const std::string& p, std::string_view session) {
  return p + "session:" + std::string(session) + ":ended";
}
inline std::string LimitKey(const std::string& p, std::string_view what, std::string_view who) {
  return p + "limit:" + std::string(what) + ":" + std::string(who);
}
// Presence entries live this long unless refreshed; ingress refreshes every third of it, so a crashed
// instance's users read as offline within this time.
inline constexpr int kPresenceTtlMs = 30000;

// A loop's first joined connection of a user in a room: adds the loop (ARGV[3]) to the room's set for
// the user, scored by expiry (ARGV[2]), and returns 1 when no other loop had the user there (entries
// expired by ARGV[1], now in ms, do not count). KEYS[1] = RoomUserKey; ARGV[4] = TTL in ms.
inline constexpr const char* kPresenceEnterScript = R"lua(
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local others = redis.call('ZCARD', KEYS[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then others = others - 1 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if others == 0 then return 1 end
return 0
)lua";

// A loop's last joined connection of a user in a room has left: removes the loop (ARGV[2]) and
// returns 1 when no other loop has the user there any more (ARGV[1]: now in ms). KEYS[1] = RoomUserKey.
inline constexpr const char* kPresenceLeaveScript = R"lua(
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) == 0 then return 1 end
return 0
)lua";

// Caches a room list read from PostgreSQL unless the list changed since the generation was read,
// which was before the read: a refill that read the list before a change, and got here after that
// change's INCR and DEL, must not put the old list back for the TTL.
// KEYS[1] = generation key, KEYS[2] = list key; ARGV[1] = the generation ('' when there was none),
// ARGV[2] = the list, ARGV[3] = TTL in seconds. Returns 1 when cached.
inline constexpr const char* kRoomsListSetScript = R"lua(
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
return 1
)lua";

// The cached room list, its generation and the list's milliseconds to live, read at one instant.
// KEYS[1] = generation key, KEYS[2] = list key. Returns {list or nil, generation or nil, PTTL}.
inline constexpr const char* kRoomsListGetScript = R"lua(
return {redis.call('GET', KEYS[2]), redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[2])}
)lua";

// Drops the cached room list and counts its generation up, at one instant: a loop that read the
// generation of after the change never finds the list of before it (ingress/room_list.h).
// KEYS[1] = generation key, KEYS[2] = list key.
inline constexpr const char* kRoomsListDropScript = R"lua(
redis.call('INCR', KEYS[1])
return redis.call('DEL', KEYS[2])
)lua";

// Pushes a room's message frames, in order, onto its history list, each unless the list already holds
// that position or a later one by then, and caps the list: repeating it (a replayed batch) changes
// nothing. Only the newest `cap` of the frames it takes are pushed, as the cap would drop the others.
// KEYS[1] = history key; ARGV[1] = cap; then ARGV[2k] = pos, ARGV[2k+1] = frame. The head's position
// is read with FrameHeadLuaPattern() (common/events.h).
inline const std::string& HistoryPushScript() {
  static const std::string script = R"lua(
local cap = tonumber(ARGV[1])
local top
local head = redis.call('LINDEX', KEYS[1], 0)
if head then top = tonumber((string.match(head, ')lua" + FrameHeadLuaPattern() + R"lua('))) end
local take = {}
for i = 2, #ARGV, 2 do
  local pos = tonumber(ARGV[i])
  if not top or top < pos then
    take[#take + 1] = ARGV[i + 1]
    top = pos
  end
end
if #take == 0 then return 0 end
redis.call('LPUSH', KEYS[1], unpack(take, math.max(1, #take - cap + 1), #take))
redis.call('LTRIM', KEYS[1], 0, cap - 1)
return #take
)lua";
  return script;
}

// Token buckets (ingress/token_bucket.h has the same arithmetic for local ones), all or nothing: takes
// ARGV[2] tokens (0: only looks) from every bucket KEYS[i] if each holds max(ARGV[2], 1), else none.
// Returns 0 when they were taken (or there was enough to look at), else the milliseconds until every
// bucket will hold that much. ARGV[1] = now in ms; ARGV[2i+1], ARGV[2i+2] = bucket i's burst and the
// period (ms) it refills over. A bucket is a hash {t: tokens, at: ms}; a missing one is full, so each
// expires once it would be full again. The callers' clocks set `now`: a clock behind the stored time
// refills nothing, and never moves it back.
inline constexpr const char* kTokenBucketScript = R"lua(
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local need = math.max(cost, 1)
local wait = 0
local level, at = {}, {}
for i, key in ipairs(KEYS) do
  local burst, period = tonumber(ARGV[2 * i + 1]), tonumber(ARGV[2 * i + 2])
  local b = redis.call('HMGET', key, 't', 'at')
  local t, last = tonumber(b[1]) or burst, tonumber(b[2]) or now
  if now > last then
    t = math.min(burst, t + (now - last) * burst / period)
    last = now
  end
  level[i], at[i] = t, last
  if t < need then wait = math.max(wait, math.max(1, math.ceil((need - t) * period / burst - 1e-9))) end
end
if wait > 0 or cost == 0 then return wait end
for i, key in ipairs(KEYS) do
  redis.call('HSET', key, 't', tostring(level[i] - cost), 'at', at[i])
  redis.call('PEXPIRE', key, ARGV[2 * i + 2])
end
return 0
)lua";

// The sends-per-user buckets (ingress/send_allowance.h), several users' in one call: the same buckets
// and arithmetic as kTokenBucketScript, but a bucket may go below zero. For each KEYS[i], with
// ARGV[4i-2..4i+1] = taken, wanted, burst, period (ms): first takes `taken` tokens whatever the bucket
// holds (sends a loop already admitted on its credit; a debt is waited off like any empty bucket), then
// grants up to `wanted` more, as many as there are whole tokens. ARGV[1] = now in ms. Returns, per key,
// three integers: granted, the whole tokens left, and the milliseconds until there is one (0: there is).
// A bucket is kept until it would be full again.
inline constexpr const char* kSendAllowanceScript = R"lua(
local now = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
  local taken, wanted = tonumber(ARGV[4 * i - 2]), tonumber(ARGV[4 * i - 1])
  local burst, period = tonumber(ARGV[4 * i]), tonumber(ARGV[4 * i + 1])
  local b = redis.call('HMGET', key, 't', 'at')
  local t, last = tonumber(b[1]) or burst, tonumber(b[2]) or now
  if now > last then
    t = math.min(burst, t + (now - last) * burst / period)
    last = now
  end
  t = t - taken
  local granted = math.max(0, math.min(wanted, math.floor(t)))
  t = t - granted
  if taken + granted > 0 then
    redis.call('HSET', key, 't', tostring(t), 'at', last)
    redis.call('PEXPIRE', key, math.ceil((burst - t) * period / burst))
  end
  local wait = 0
  if t < 1 then wait = math.max(1, math.ceil((1 - t) * period / burst - 1e-9)) end
  out[3 * i - 2], out[3 * i - 1], out[3 * i] = granted, math.max(0, math.floor(t)), wait
end
return out
)lua";

}  // namespace chatpipe
