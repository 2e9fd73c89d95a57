// Which Redis shard holds a key or a channel, when --redis names several Redis instances.
//
// Keys and channels are spread the way Redis Cluster spreads them over slots, then the slots over the
// shards: a name's slot is CRC16 of its hash tag (the text between its first '{' and the next '}',
// when that is not empty) or else of the whole name, mod 16384, exactly as Redis Cluster computes it;
// a slot's shard is chosen by jump consistent hashing (Lamping & Veach), so growing from N shards to
// N+1 moves a 1/(N+1) share of the slots, every one of them to the new shard. Names a script or a
// transaction uses together share a hash tag (storage/redis_keys.h), so they live on one shard, as
// they would on one Redis Cluster node. Pure functions: every process computes the same placement.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <span>
#include <string_view>
#include <vector>

namespace chatpipe {

inline constexpr int kRedisSlots = 16384;

// Redis Cluster's slot of a key (its HASH_SLOT): CRC16-XMODEM of the hash tag or the key, mod 16384.
uint16_t RedisSlot(std::string_view key);

// The shard, in [0, shards), that holds `key` (a key or a channel name). One shard: 0.
size_t RedisShardOf(std::string_view key, size_t shards);

// The name a command is routed by: its key or channel (args[1] for GET, SET, PUBLISH...; the first key
// of an EVAL/EVALSHA; the channel of PUBSUB NUMSUB), or "" for a command without one (PING, TIME,
// INFO...), which goes to the first shard. Multi-key commands route by their first key: their keys
// must share a hash tag.
std::string_view RoutingKey(const std::vector<std::string>& args);
// The same for a script call given from its numkeys on (numkeys, key..., arg...): its first key.
std::string_view ScriptRoutingKey(std::span<const std::string> from_numkeys);

}  // namespace chatpipe
