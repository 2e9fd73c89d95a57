// SeenSeqs: which seqs of one sending stream have reached one connection, to count duplicates.
//
// A generator reading a million deliveries a second checks each against this, for each of its
// connections, so it must not touch memory of its own per message: messages almost always arrive in
// their stream's order, and then `next` (every seq below it arrived) settles them. Only seqs that
// arrive ahead of a gap get a bit, relative to `base`, until the gap closes; a gap that never
// closes (a lost message) keeps them, which costs what a plain bitmap would.
#pragma once

#include <cstdint>
#include <vector>

namespace chatpipe::bench {

class SeenSeqs {
 public:
  bool Add(uint32_t seq);  // false: it had arrived before (a duplicate)
  uint32_t next() const { return next_; }

 private:
  bool Early(uint32_t seq) const;
  void Trim();

  uint32_t next_ = 0;    // every seq below it has arrived
  uint32_t early_ = 0;   // bits set in ahead_, all at or above next_
  uint32_t base_ = 0;    // the seq of bit 0 of ahead_, a multiple of 64
  std::vector<uint64_t> ahead_;
};

}  // namespace chatpipe::bench
