#include "workers/board/board_worker.h"

#include <spdlog/spdlog.h>

#include "common/message_id.h"
#include "common/metrics.h"
#include "storage/board_history.h"
#include "storage/board_store.h"

namespace chatpipe {
namespace {

Metric& applied = Counter("chatpipe_board_placements_total", "placements stored in the board's history");
Metric& changed = Counter("chatpipe_board_pixels_changed_total", "placements that changed the live board");
Metric& restores = Counter("chatpipe_board_restores_total", "boards Redis had lost, restored from PostgreSQL");
Metric& off_board = Counter("chatpipe_board_off_board_total", "placements refused: off the board or its palette");

}  // namespace

Result<std::vector<PixelPlacement>> DecodeBoardEvent(const KafkaMessage& m) { return DecodePixelPlacements(m.payload); }

BoardWorker::BoardWorker(CommonConfig config, BoardWorkerOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      pg_(config_.pg_conninfo),
      redis_(config_.RedisShards()),
      loop_(config_,
            {.worker = "board",
             .group = options_.group,
             .topics = {kBoardTopic},
             .batch_max = options_.batch,
             .range = options_.range},
            DecodeBoardEvent, [this](const std::vector<std::vector<PixelPlacement>>& events) {
              std::vector<PixelPlacement> batch;
              for (const auto& placements : events) batch.insert(batch.end(), placements.begin(), placements.end());
              return Apply(batch);
            }) {}

Status BoardWorker::Start() {
  auto exists = redis_.Command({"EXISTS", BoardVersionKey(config_.RedisPrefix())});
  if (!exists.ok()) return exists.status();
  if (exists->integer == 0)
    if (Status s = RestoreFromHistory(); !s.ok()) return s;
  return loop_.Start();
}

// Redis has no board (it lost it, or this is a new deployment): the board the history holds goes
// back, merged with what other workers have applied since.
Status BoardWorker::RestoreFromHistory() {
  const int64_t now = static_cast<int64_t>(NowMs());
  auto history = BoardAt(pg_, options_.board, now);
  if (!history.ok()) return history.status();
  auto restored = RestoreBoard(redis_, config_.RedisPrefix(), *history, now);
  if (!restored.ok()) return restored.status();
  if (*restored) {
    restores.Add();
    spdlog::warn("board: Redis had lost the board; restored it from PostgreSQL's history");
  }
  return Status::Ok();
}

void BoardWorker::Run(const std::atomic<bool>& stop) { loop_.Run(stop); }

Status BoardWorker::Apply(const std::vector<PixelPlacement>& placements) {
  std::vector<PixelPlacement> on_board;
  on_board.reserve(placements.size());
  Status refused;
  for (const PixelPlacement& p : placements) {
    if (Status s = options_.board.CheckPixel(p.x, p.y, p.color); !s.ok()) {
      off_board.Add();
      spdlog::warn("board: placement {} refused: {}", p.id, s.ToString());
      refused = s;
      continue;
    }
    on_board.push_back(p);
  }
  if (Status s = StorePlacements(pg_, on_board); !s.ok()) return s;
  if (Status s = ApplyToRedis(on_board); !s.ok()) return s;
  applied.Add(static_cast<double>(on_board.size()));
  // The rest is done; redone one at a time, the refused placement is dead-lettered.
  return refused;
}

Status BoardWorker::ApplyToRedis(const std::vector<PixelPlacement>& placements) {
  if (placements.empty()) return Status::Ok();
  auto applied = ApplyPlacements(redis_, config_.RedisPrefix(), placements, options_.board,
                                 static_cast<int64_t>(NowMs()));
  if (!applied.ok()) return applied.status();
  changed.Add(static_cast<double>(applied->changed));
  // The board's version had to start: Redis lost the board while this worker ran.
  return applied->fresh ? RestoreFromHistory() : Status::Ok();
}

}  // namespace chatpipe
