#include "workers/consume/dead_letters.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <memory>
#include <thread>

namespace chatpipe {
namespace {

constexpr auto kSlice = std::chrono::milliseconds(50);  // how often a wait looks at the stop flag

}  // namespace

bool PauseUnlessStopped(std::chrono::milliseconds d, const std::atomic<bool>& stop) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!stop) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(kSlice, until - now));
  }
  return false;
}

DeadLetters::DeadLetters(KafkaProducer* producer, std::string topic, std::string source)
    : producer_(producer),
      topic_(std::move(topic)),
      source_(std::move(source)),
      sent_(WorkerMetrics::For(source_).dead_letters) {}

Status DeadLetters::SendOnce(const std::string& key, const std::string& payload, const std::string& reason,
                             const std::atomic<bool>& stop) {
  // Shared with the delivery callback, which may run after a stop made us stop waiting.
  auto delivered = std::make_shared<std::promise<Status>>();
  std::future<Status> report = delivered->get_future();
  producer_->Produce(topic_, key, payload, [delivered](Status s) { delivered->set_value(std::move(s)); },
                     {{"reason", reason}, {"source", source_}});
  while (report.wait_for(kSlice) != std::future_status::ready)
    if (stop) return Status::Unavailable("queue_unavailable", "stopped before the broker confirmed the dead letter");
  return report.get();
}

Status DeadLetters::Send(const std::string& key, const std::string& payload, const std::string& reason,
                         const std::atomic<bool>& stop) {
  spdlog::error("{}: dead-lettering: {}", source_, reason);
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    Status s = SendOnce(key, payload, reason, stop);
    if (s.ok()) {
      sent_.Add();
      return s;
    }
    spdlog::warn("{}: dead letter not delivered (again in {} ms unless stopping): {}", source_, backoff.count(), s.ToString());
    if (!PauseUnlessStopped(backoff, stop)) return s;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

}  // namespace chatpipe
