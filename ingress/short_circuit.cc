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
  for (Loop* loop : loops_) {
    if (loop == here) loop->rooms().OnRoomFrame(event.room, *frame);
    else loop->Post([loop, room = event.room, frame] { loop->rooms().OnRoomFrame(room, *frame); });
  }
}

}  // namespace chatpipe
