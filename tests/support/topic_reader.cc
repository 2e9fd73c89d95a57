#include "tests/support/topic_reader.h"

#include <algorithm>

#include "tests/support/services.h"
#include "tests/support/wait.h"

namespace chatpipe::test {

Result<std::unique_ptr<TopicReader>> TopicReader::Create(const CommonConfig& config, const std::string& topic) {
  std::unique_ptr<TopicReader> r(new TopicReader());
  auto consumer = BatchConsumer::Create(config.kafka_brokers, config.Group("reader-" + RandomHex(4)), {topic});
  if (!consumer.ok()) return consumer.status();
  r->consumer_ = std::move(*consumer);
  return r;
}

std::vector<KafkaMessage> TopicReader::Read(size_t count, std::chrono::milliseconds timeout) {
  std::vector<KafkaMessage> out;
  WaitFor([&](std::chrono::milliseconds left) {
    if (out.size() >= count) return true;
    auto batch = consumer_->Poll(100, std::min(left, std::chrono::milliseconds(100)));
    out.insert(out.end(), batch.begin(), batch.end());
    return out.size() >= count;
  }, timeout);
  return out;
}

}  // namespace chatpipe::test
