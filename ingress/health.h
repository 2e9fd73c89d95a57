// The ingress's readiness (common/readiness.h), for /readyz and /healthz on its loops and on
// --metrics-port. Kafka's and PostgreSQL's checks run on the HealthMonitor's thread (a metadata request
// for chat.messages through the producer, SELECT 1 on a connection of the probe's own); Redis's state is
// the loops' own links, counted as they connect and drop (RedisLinks); and a draining ingress is not
// ready. Reading it takes a lock for a copy of a few short strings and never waits for a check, so a
// loop may answer every probe.
#pragma once

#include "common/readiness.h"
#include "ingress/services.h"

namespace chatpipe {

// Creates services->health with Kafka's and PostgreSQL's checks and starts it; the producer must
// exist, and the monitor must be stopped before the producer goes. Without an instance number
// (--instance) it takes one from PostgreSQL first, or, PostgreSQL away, with the PostgreSQL check
// once it answers: until then the ingress has no message ids and is not ready.
void StartHealthChecks(Services* services);

ReadinessAnswer IngressReadiness(const Services& services);

}  // namespace chatpipe
