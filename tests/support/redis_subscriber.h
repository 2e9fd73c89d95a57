// Subscriber: a Redis SUBSCRIBE connection of a test's own, to see what workers publish (room frames,
// user notifications). It owns its connection; Next() blocks for the next message, up to a deadline.
#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace chatpipe::test {

class Subscriber {
 public:
  static Result<std::unique_ptr<Subscriber>> Create(const CommonConfig& config, const std::vector<std::string>& channels);
  ~Subscriber();
  // The next message's payload, or an error when none arrives before the deadline (the subscriber
  // is spent then: hiredis cannot read again from a timed-out connection).
  Result<std::string> Next(std::chrono::milliseconds timeout);

 private:
  Subscriber() = default;
  redisContext* ctx_ = nullptr;
};

}  // namespace chatpipe::test
