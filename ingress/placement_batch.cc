#include "ingress/placement_batch.h"

#include <chrono>
#include <memory>
#include <string>

#include "common/config.h"
#include "common/metrics.h"
#include "ingress/loop.h"

namespace chatpipe {
namespace {

LatencyHistogram& place_time = Histogram(kLatencyMetric, kLatencyHelp, {{"hop", "place"}});

}  // namespace

void PlacementBatch::Add(const PixelPlacement& placement, std::function<void(Status)> done) {
  placements_.push_back(placement);
  done_.push_back(std::move(done));
  if (placements_.size() >= kMaxPlacements) return Flush();
  loop_->ScheduleFlush();
}

void PlacementBatch::Flush() {
  if (placements_.empty()) return;
  Services& services = loop_->services();
  auto done = std::make_shared<std::vector<std::function<void(Status)>>>(std::move(done_));
  done_.clear();
  // The key only spreads the messages over the partitions: a board's placements may be applied in
  // any order (the highest id wins).
  const std::string key = std::to_string(placements_.front().id);
  const std::string event = EncodePixelBatch(placements_);
  placements_.clear();
  const auto produced = std::chrono::steady_clock::now();
  Loop* loop = loop_;
  services.producer->Produce(services.config.common.Topic(kBoardTopic), key, event, [loop, produced, done](Status s) {
    const auto waited = std::chrono::steady_clock::now() - produced;
    for (auto& answer : *done) {
      if (s.ok()) place_time.Observe(waited);
      loop->tasks().Answer([s, answer = std::move(answer)] { answer(s); });
    }
  });
}

}  // namespace chatpipe
