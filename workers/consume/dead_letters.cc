#include "workers/consume/dead_letters.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <memory>

#include "common/log.h"
#include "workers/consume/pause.h"

namespace chatpipe {
namespace {

constexpr auto kSlice = std::chrono::milliseconds(50);  // how often the wait for a report looks at stop

// A dead letter must fit the producer's message.max.bytes (1,000,000 by default) with its headers, or
// the broker's refusal would be retried forever and the worker would never get past the message. A
// message on its topic may be as large as the broker took there, and a reason may quote all of it.
constexpr size_t kMaxPayload = 900'000;
constexpr size_t kMaxKey = 4096;
constexpr size_t kMaxReason = 4096;

}  // namespace

DeadLetters::DeadLetters(KafkaProducer* producer, std::string topic, std::string source)
    : producer_(producer),
      topic_(std::move(topic)),
      source_(std::move(source)),
      sent_(WorkerMetrics::For(source_).dead_letters) {}

Status DeadLetters::SendOnce(const std::string& key, const std::string& payload, const Headers& headers,
                             const std::atomic<bool>& stop) {
  // Shared with the delivery callback, which may run after a stop made us stop waiting.
  auto delivered = std::make_shared<std::promise<Status>>();
  std::future<Status> report = delivered->get_future();
  producer_->Produce(topic_, key, payload, [delivered](Status s) { delivered->set_value(std::move(s)); }, headers);
  while (report.wait_for(kSlice) != std::future_status::ready)
    if (stop) return Status::Unavailable("queue_unavailable", "stopped before the broker reported the dead letter");
  return report.get();
}

Status DeadLetters::Send(const std::string& key_in, const std::string& payload_in, const std::string& reason_in,
                         const std::atomic<bool>& stop, const KafkaMessage* from) {
  const std::string key = key_in.substr(0, kMaxKey), payload = payload_in.substr(0, kMaxPayload);
  const std::string reason = reason_in.substr(0, kMaxReason);
  Headers headers = {{"reason", reason}, {"source", source_}};
  // Cut to fit: `deadletter retry` will not put back what is not whole.
  if (key.size() < key_in.size() || payload.size() < payload_in.size())
    headers.push_back({"truncated_from", std::to_string(key_in.size()) + "," + std::to_string(payload_in.size())});
  if (from) {
    headers.insert(headers.end(), {{"topic", from->topic},
                                   {"partition", std::to_string(from->partition)},
                                   {"offset", std::to_string(from->offset)}});
    LogEvent(spdlog::level::err, "dead_letter",
             {{"source", source_}, {"topic", from->topic}, {"partition", from->partition}, {"offset", from->offset},
              {"key", key}, {"reason", reason}});
  } else {
    LogEvent(spdlog::level::err, "dead_letter", {{"source", source_}, {"key", key}, {"reason", reason}});
  }
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    Status s = SendOnce(key, payload, headers, stop);
    if (s.ok()) {
      sent_.Add();
      return s;
    }
    spdlog::warn("{}: dead letter not delivered (again in {} ms unless stopping): {}", source_, backoff.count(),
                 s.ToString());
    if (!PauseUnlessStopped(backoff, stop)) return s;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

}  // namespace chatpipe
