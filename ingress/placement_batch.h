// PlacementBatch: the pixel placements one ingress loop took in one loop iteration, produced to
// board.pixels as one Kafka message (a pixel_batch event, common/events.h) at the iteration's end.
//
// Why: Kafka, librdkafka and the board worker each pay per message, hardly per byte, and a
// placement is 30 bytes. Nothing waits for the batch: it is produced by the same end-of-iteration
// flush that writes the loop's corked output (Loop::OnFlush), or at once when it holds kMaxPlacements.
// The placements of one message are stored together or refused together; each one's `done` runs on
// the loop with the delivery report's Status, so every ack still means "in Kafka".
//
// Owned by its Loop; loop thread only. Add() takes placements whose answer the loop has reserved
// (TaskQueue::Admit).
#pragma once

#include <functional>
#include <vector>

#include "common/events.h"
#include "common/status.h"

namespace chatpipe {

class Loop;

class PlacementBatch {
 public:
  // Bounds a message: 1,000 placements are about 40 KB of JSON, far below Kafka's 1 MB.
  static constexpr size_t kMaxPlacements = 1000;

  explicit PlacementBatch(Loop* loop) : loop_(loop) {}

  void Add(const PixelPlacement& placement, std::function<void(Status)> done);
  void Flush();  // produces what was added, if anything

 private:
  Loop* loop_;
  std::vector<PixelPlacement> placements_;
  std::vector<std::function<void(Status)>> done_;
};

}  // namespace chatpipe
