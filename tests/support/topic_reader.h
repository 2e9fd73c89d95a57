// TopicReader: reads a Kafka topic from its beginning with a consumer group of its own, to see what a
// worker produced (chat.notify events, dead letters). Each Read goes on where the last one stopped.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "queue/kafka.h"

namespace chatpipe::test {

class TopicReader {
 public:
  static Result<std::unique_ptr<TopicReader>> Create(const CommonConfig& config, const std::string& topic);
  // Reads until at least `count` messages have arrived or `timeout` passed, whichever is first; every
  // message a poll brought is returned, so more than `count` can come back.
  std::vector<KafkaMessage> Read(size_t count, std::chrono::milliseconds timeout);

 private:
  TopicReader() = default;
  std::unique_ptr<BatchConsumer> consumer_;
};

}  // namespace chatpipe::test
