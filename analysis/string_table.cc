#include "analysis/string_table.h"

#include <algorithm>

namespace chatpipe::analysis {

int StringTable::Add(std::string_view key) {
  if (int id = Find(key); id >= 0) return id;
  if ((keys_.size() + 1) * 2 > slots_.size()) Rehash(std::max<size_t>(64, slots_.size() * 2));
  const int id = static_cast<int>(keys_.size());
  keys_.push_back({static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(key.size())});
  arena_.append(key);
  Insert(key, id);
  return id;
}

void StringTable::Insert(std::string_view key, int id) {
  uint64_t head;
  const uint32_t h = Hash(key, &head);
  const size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  while (slots_[i].id >= 0) i = (i + 1) & mask;
  slots_[i] = {Tag(h, key.size()), id, head};
}

void StringTable::Rehash(size_t capacity) {
  slots_.assign(capacity, Slot{});
  for (int id = 0; id < size(); ++id) Insert(Key(id), id);
}

}  // namespace chatpipe::analysis
