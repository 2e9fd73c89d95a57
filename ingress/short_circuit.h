// ShortCircuit: the benchmark floor. With `chatpipe ingress --short-circuit`, an accepted message skips
// Kafka, the persister and Redis: it gets its position here, is acknowledged at once and is fanned out
// to the rooms of every loop of this process, exactly as if its frame had come from the room's Redis
// channel. What remains is the socket layer (frame decoding, validation, fan-out, corked writes), so a
// benchmark run against it shows how much of a figure the pipeline costs. Nothing is stored and other
// ingress processes see nothing: it is for `bench/run --server chatpipe-floor`, never for users.
//
// Owned by Services; the loops it posts to are owned by IngressServer and outlive it.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "common/events.h"

namespace chatpipe {

class Loop;

class ShortCircuit {
 public:
  void AddLoop(Loop* loop) { loops_.push_back(loop); }  // before the loops start

  // Gives `event` the room's next position (above `known_pos`, the highest the calling loop `here`
  // has seen of the room: positions continue from what storage held when clients joined) and posts
  // its frame to every loop, or, when `here` is the only loop, hands it over at once (in this loop
  // iteration, as a frame read from Redis would be). Thread-safe; called on `here`'s thread.
  void Publish(const ChatEvent& event, int64_t known_pos, Loop* here);

 private:
  std::vector<Loop*> loops_;
  std::mutex mu_;  // held while posting too, so every loop receives a room's frames in position order
  std::unordered_map<int64_t, int64_t> last_pos_;  // room -> last position given
};

}  // namespace chatpipe
