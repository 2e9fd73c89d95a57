// ConnectionTable: a loop's connections, owned, and found by id with one array index.
//
// An id is the connection's descriptor in its low 32 bits and the loop's count of connections so far
// above them. Looking an id up indexes the array by its descriptor and checks the whole id, so an id
// outlives its connection safely: a callback holding the id of a closed connection finds nothing, even
// once the kernel has given the descriptor to a new connection. A hash map from id did the same for a
// node and a bucket (about 40 bytes) on each of a million idle connections; the array costs 8 bytes per
// descriptor up to the highest, which the process's descriptor limit bounds.
//
// A template over the connection type (anything with `uint64_t id() const`), so that its test needs no
// loop.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace chatpipe {

template <typename T>
class ConnectionTable {
 public:
  // The id for a new connection on descriptor `fd`.
  uint64_t NextId(int fd) { return ++count_ << 32 | static_cast<uint32_t>(fd); }

  // Takes `conn`, whose id() came from NextId and whose descriptor no connection here holds.
  void Add(std::unique_ptr<T> conn) {
    const size_t slot = Slot(conn->id());
    if (slot >= slots_.size()) slots_.resize(slot + 1);
    slots_[slot] = std::move(conn);
    ++size_;
  }

  T* Find(uint64_t id) const {
    const size_t slot = Slot(id);
    if (slot >= slots_.size() || !slots_[slot] || slots_[slot]->id() != id) return nullptr;
    return slots_[slot].get();
  }

  // Frees the connection `id` if it is still here. Its slot is empty before its destructor runs, so the
  // destructor (and ForEach callers) may look the table up.
  void Remove(uint64_t id) {
    if (!Find(id)) return;
    std::unique_ptr<T> gone = std::move(slots_[Slot(id)]);
    --size_;
  }

  // Calls f(T&) for each connection. `f` may remove any connection (it is then skipped if not reached
  // yet) and add new ones (which may or may not be visited).
  template <typename F>
  void ForEach(F f) {
    for (size_t slot = 0; slot < slots_.size(); ++slot)
      if (T* conn = slots_[slot].get()) f(*conn);
  }

  // Calls f(T&) for the connections in the next 1/`parts` of a pass over the slots, from where the
  // last call stopped: `parts` calls visit each connection at least once. The loop's silence sweep
  // runs this way so that its pings, and the pongs and ACKs they bring, go out a slice at a time and
  // not all in one burst (Loop::OnSilenceSweep). A pass goes in bit-reversed order: neighbouring
  // slots hold connections opened together, due to be pinged together, and in slot order a ramp's
  // worth of them fell into one slice. `f` may remove and add as in ForEach.
  template <typename F>
  void ForEachInTurn(size_t parts, F f) {
    if (slots_.empty()) return;
    const int bits = std::bit_width(slots_.size() - 1);
    const size_t count = ((size_t{1} << bits) + parts - 1) / parts;
    for (size_t i = 0; i < count; ++i) {
      const size_t slot = turn_;
      turn_ = NextReversed(turn_, bits);
      if (slot < slots_.size() && slots_[slot]) f(*slots_[slot]);
    }
  }

  void Clear() {
    for (size_t slot = 0; slot < slots_.size(); ++slot)
      if (slots_[slot]) Remove(slots_[slot]->id());
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  static size_t Slot(uint64_t id) { return static_cast<uint32_t>(id); }
  // `r` plus one, both read with their `bits` low bits reversed: 0, 4, 2, 6, 1, 5, 3, 7, 0 for 3 bits.
  static size_t NextReversed(size_t r, int bits) {
    size_t bit = size_t{1} << bits >> 1;
    while (r & bit) {
      r ^= bit;
      bit >>= 1;
    }
    return r | bit;
  }

  std::vector<std::unique_ptr<T>> slots_;
  size_t size_ = 0;
  uint64_t count_ = 0;
  size_t turn_ = 0;  // the slot ForEachInTurn visits next
};

}  // namespace chatpipe
