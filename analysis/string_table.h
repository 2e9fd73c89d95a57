// StringTable: strings to dense ids (0, 1, 2... in the order added), open addressing, built once
// while the lexicons load and then only read, from any number of threads. Owns copies of its keys.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analysis/steps.h"

namespace chatpipe::analysis {

class StringTable {
 public:
  // The id of key, or -1. Inline: the scanner looks up every word.
  int Find(std::string_view key) const {
    if (slots_.empty()) return -1;
    const uint32_t h = Hash(key);
    const size_t mask = slots_.size() - 1;
    CHATPIPE_STEPS(key.size());  // the hash
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      CHATPIPE_STEPS(1);
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (s.hash == h && (CHATPIPE_STEPS(key.size()), Key(s.id) == key)) return s.id;
    }
  }

  // The id of key, added if it is new.
  int Add(std::string_view key);

  std::string_view Key(int id) const { return std::string_view(arena_).substr(keys_[id].first, keys_[id].second); }
  int size() const { return static_cast<int>(keys_.size()); }

 private:
  struct Slot {
    uint32_t hash = 0;
    int32_t id = -1;
  };

  // Eight bytes per multiply: most words take one or two.
  static uint32_t Hash(std::string_view s) {
    const char* p = s.data();
    size_t n = s.size();
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    for (; n >= 8; p += 8, n -= 8) {
      uint64_t v;
      std::memcpy(&v, p, 8);
      h = (h ^ v) * 0xFF51AFD7ED558CCDull;
      h ^= h >> 32;
    }
    uint64_t tail = 0;
    for (size_t k = 0; k < n; ++k) tail |= uint64_t{static_cast<unsigned char>(p[k])} << (8 * k);
    h = (h ^ tail) * 0xC4CEB9FE1A85EC53ull;
    return static_cast<uint32_t>(h ^ (h >> 29));
  }

  void Insert(uint32_t h, int id);
  void Rehash(size_t capacity);

  std::vector<Slot> slots_;
  std::string arena_;
  std::vector<std::pair<uint32_t, uint32_t>> keys_;  // offset and length in arena_
};

}  // namespace chatpipe::analysis
