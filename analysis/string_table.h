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
    uint64_t head;
    const uint32_t h = Hash(key, &head);
    const uint32_t tag = Tag(h, key.size());
    const size_t mask = slots_.size() - 1;
    CHATPIPE_STEPS(key.size());  // the hash
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      CHATPIPE_STEPS(1);
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      // A key of eight bytes or fewer is its length and head: no need to read it.
      if (s.tag == tag && s.head == head && (key.size() <= 8 || (CHATPIPE_STEPS(key.size()), Key(s.id) == key)))
        return s.id;
    }
  }

  // The id of key, added if it is new.
  int Add(std::string_view key);

  std::string_view Key(int id) const { return std::string_view(arena_).substr(keys_[id].first, keys_[id].second); }
  int size() const { return static_cast<int>(keys_.size()); }

 private:
  // A slot holds what tells its key from others without reading the arena: the hash's high bits and
  // the length (to 255) in tag, the first eight bytes in head. Most words are that short, so a lookup
  // reads one cache line of the table and nothing else.
  struct Slot {
    uint32_t tag = 0;
    int32_t id = -1;
    uint64_t head = 0;
  };

  static uint32_t Tag(uint32_t h, size_t n) { return (h & ~0xFFu) | static_cast<uint32_t>(n < 255 ? n : 255); }

  // The n <= 8 bytes at p as a little-endian integer, zero above them: two loads that may overlap, so
  // no loop and no read past p + n.
  static uint64_t Load(const char* p, size_t n) {
    if (n >= 4) {
      uint32_t a, b;
      std::memcpy(&a, p, 4);
      std::memcpy(&b, p + n - 4, 4);
      return a | uint64_t{b} << (8 * (n - 4));
    }
    if (n == 0) return 0;
    const auto at = [p](size_t k) { return uint64_t{static_cast<unsigned char>(p[k])} << (8 * k); };
    return at(0) | at(n / 2) | at(n - 1);
  }

  // Eight bytes per multiply: most words take one. *head is the first eight bytes (Load).
  static uint32_t Hash(std::string_view s, uint64_t* head) {
    const char* p = s.data();
    const size_t n = s.size();
    *head = Load(p, n < 8 ? n : 8);
    uint64_t h = (0x9E3779B97F4A7C15ull ^ n ^ *head) * 0xFF51AFD7ED558CCDull;
    for (size_t at = 8; at < n; at += 8) {
      h ^= h >> 32;
      h = (h ^ Load(p + at, n - at < 8 ? n - at : 8)) * 0xFF51AFD7ED558CCDull;
    }
    h *= 0xC4CEB9FE1A85EC53ull;
    return static_cast<uint32_t>(h ^ (h >> 29));
  }

  void Insert(std::string_view key, int id);
  void Rehash(size_t capacity);

  std::vector<Slot> slots_;
  std::string arena_;
  std::vector<std::pair<uint32_t, uint32_t>> keys_;  // offset and length in arena_
};

}  // namespace chatpipe::analysis
