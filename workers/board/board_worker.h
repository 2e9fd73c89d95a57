// BoardWorker: the `board` consumer group. Applies placements on the pixel board (board.pixels;
// docs/board.md) on the one consume loop (workers/consume).
//
// For each batch it
//   1. inserts the placements into PostgreSQL's board_placements (one statement, ON CONFLICT DO
//      NOTHING): the history is durable before the live board shows anything of it;
//   2. applies them to the Redis board (ApplyPlacements, storage/board_store.h): the ids the pixels
//      show are read, a pixel takes a placement only if its id is above the one it shows, and the
//      batch's changes, the version raised by one and one `pixels` frame are written in one atomic
//      step, refused (and read again) if another worker moved the version meanwhile;
//   3. and only then lets the consume loop store the batch's offsets.
// A replay or a restart inserts nothing new and finds every id already shown: it changes and publishes
// nothing. A board Redis lost (no version: restarted empty, flushed) is rebuilt from the history, at
// start and whenever a batch finds it gone, merged by the same rule with what was applied since. A placement off the board (a deployment whose processes disagree on the size) is refused,
// so the loop applies the batch one at a time and dead-letters it; PostgreSQL or Redis away fails the
// batch, to be retried.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "common/board.h"
#include "common/config.h"
#include "common/events.h"
#include "storage/pg.h"
#include "storage/redis_client.h"
#include "workers/consume/consume_loop.h"

namespace chatpipe {

struct BoardWorkerOptions {
  size_t batch = 500;
  std::string group = "board";  // before namespacing
  ConsumeRange range = {};
  BoardConfig board;
};

class BoardWorker {
 public:
  BoardWorker(CommonConfig config, BoardWorkerOptions options);
  Status Start();  // restores a board Redis lost, then joins the consumer group
  void Run(const std::atomic<bool>& stop);
  // Its consumer's readiness (ConsumeCore::CheckKafka): from any thread, after Start().
  Status CheckKafka(std::chrono::milliseconds timeout) { return loop_.CheckKafka(timeout); }
  // One batch's effects (steps 1 and 2); does not touch offsets. Exposed for tests.
  Status Apply(const std::vector<PixelPlacement>& placements);

 private:
  Status ApplyToRedis(const std::vector<PixelPlacement>& placements);
  Status RestoreFromHistory();

  CommonConfig config_;
  BoardWorkerOptions options_;
  PgConn pg_;
  RedisClient redis_;
  ConsumeLoop<std::vector<PixelPlacement>> loop_;  // an event holds the placements of one ingress loop iteration  // last: its steps use the members above
};

// The decoder of board.pixels.
Result<std::vector<PixelPlacement>> DecodeBoardEvent(const KafkaMessage& m);

}  // namespace chatpipe
