#include "storage/redis_shards.h"

#include <cstdlib>
#include <strings.h>

namespace chatpipe {
namespace {

// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, as Redis Cluster's crc16.c.
uint16_t Crc16(std::string_view s) {
  uint16_t crc = 0;
  for (unsigned char c : s) {
    crc ^= static_cast<uint16_t>(c) << 8;
    for (int bit = 0; bit < 8; ++bit) crc = crc & 0x8000 ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : crc << 1;
  }
  return crc;
}

// Lamping & Veach, "A Fast, Minimal Memory, Consistent Hash Algorithm" (2014).
int64_t JumpConsistentHash(uint64_t key, int64_t buckets) {
  int64_t b = -1, j = 0;
  while (j < buckets) {
    b = j;
    key = key * 2862933555777941757ULL + 1;
    j = static_cast<int64_t>(static_cast<double>(b + 1) * (static_cast<double>(1LL << 31) / static_cast<double>((key >> 33) + 1)));
  }
  return b;
}

// splitmix64's finaliser: slots are small consecutive numbers, the jump hash wants spread-out keys.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

bool Is(const std::string& word, const char* name) { return strcasecmp(word.c_str(), name) == 0; }

}  // namespace

uint16_t RedisSlot(std::string_view key) {
  const size_t open = key.find('{');
  if (open != std::string_view::npos) {
    const size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) key = key.substr(open + 1, close - open - 1);
  }
  return Crc16(key) & (kRedisSlots - 1);
}

size_t RedisShardOf(std::string_view key, size_t shards) {
  if (shards <= 1) return 0;
  return static_cast<size_t>(JumpConsistentHash(Mix(RedisSlot(key)), static_cast<int64_t>(shards)));
}

std::string_view ScriptRoutingKey(std::span<const std::string> from_numkeys) {
  // No key, no routing (such a script touches no key).
  return from_numkeys.size() > 1 && std::atoi(from_numkeys[0].c_str()) > 0 ? std::string_view(from_numkeys[1])
                                                                           : std::string_view();
}

std::string_view RoutingKey(const std::vector<std::string>& args) {
  if (args.size() < 2) return {};
  const std::string& command = args[0];
  if (Is(command, "EVAL") || Is(command, "EVALSHA")) {
    return ScriptRoutingKey(std::span<const std::string>(args).subspan(2));
  }
  if (Is(command, "PUBSUB")) return args.size() > 2 ? std::string_view(args[2]) : std::string_view();
  for (const char* keyless : {"PING", "TIME", "INFO", "SCRIPT", "CONFIG", "CLIENT", "DBSIZE", "FLUSHDB", "FLUSHALL"})
    if (Is(command, keyless)) return {};
  return args[1];
}

}  // namespace chatpipe
