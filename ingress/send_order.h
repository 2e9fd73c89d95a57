// SendOrder: a WebSocket connection's sends reach Kafka in the order they came.
//
// Why: before a send is stamped and produced it passes checks that may answer later than the ones of
// the send after it: the room's access (PostgreSQL when its cache entry was dropped), the user's send
// allowance (a waiting send; SendAllowance), an image's lookup (PostgreSQL). Each send takes a place in
// line as it is read, and what ends it (its stamp and produce, or its refusal) runs only once every
// earlier place has ended, so a slow check holds back the sends behind it instead of letting them pass.
// HTTP needs no line: a connection's next request is read once this one is answered.
//
// Owned by its Connection; loop thread only. Memory: a slot per send read and not yet ended, at most
// kMaxOpen (past it a send is refused busy).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>

namespace chatpipe {

class SendOrder {
 public:
  // Far above what the in-flight limit (100 sends awaiting their ack) lets a client have checked.
  static constexpr size_t kMaxOpen = 1024;

  // The next place in line in *place; false (and no place) when kMaxOpen are open.
  bool Take(uint64_t* place);
  // Ends `place` by running `end`: now, if every earlier place has ended, else right after the last
  // of them does. Each place is ended exactly once.
  void End(uint64_t place, std::function<void()> end);

  size_t open() const { return ends_.size(); }

 private:
  uint64_t first_ = 0;                      // the first place not yet ended
  std::deque<std::function<void()>> ends_;  // [i]: place first_ + i's end, empty until it has one
  bool ending_ = false;                     // in End's loop: an End from an `end` only files its own
};

}  // namespace chatpipe
