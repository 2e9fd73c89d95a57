#include "ingress/short_circuit.h"

#include <algorithm>
#include <memory>
#include <string>

#include "ingress/loop.h"

namespace chatpipe {

void ShortCircuit::Publish(const ChatEvent& event, int64_t known_pos, Loop* here) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t& last = last_pos_[event.room];
  last = std::max(last, known_pos) + 1;
  auto frame = std::make_shared<const std::string>(EncodeMessageFrame({event, last}));
  // Alone, the loop takes the frame at once, in this iteration, as it would a frame read from Redis.
  // With other loops it must post to itself as well: their frames of the room, with lower positions,
  // may wait in its queue, and a frame taken before them would make its seats drop them as old.
  if (loops_.size() == 1) return here->rooms().OnRoomFrame(event.room, *frame);
  for (Loop* loop : loops_)
    loop->tasks().Post([loop, room = event.room, frame] { loop->rooms().OnRoomFrame(room, *frame); });
}

}  // namespace chatpipe
