// Which failures a worker waits out and tries again as they are, rather than treating the event as bad.
//
// The one classification every worker uses (the consume loop's batch retry, its one-at-a-time fallback):
// PostgreSQL, Redis or Kafka unreachable, or a deadlock / serialization failure (SQLSTATE class 40),
// which the same statement can pass on a second try. Anything else is the event's fault.
#pragma once

#include "common/status.h"

namespace chatpipe {

bool Retriable(const Status& s);

}  // namespace chatpipe
