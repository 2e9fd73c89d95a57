// Readiness: what a process answers on /livez, /readyz and /healthz (docs/operations.md, "Health").
//
// Live: the process works; it is answered without looking at Kafka, PostgreSQL or Redis (the ingress
// answers it from an event loop, so a wedged loop does not). Ready: it should be sent work now, when
// every check (one per engine it needs: "kafka", "postgres", "redis") says "ok" and it is not draining
// (stopping on SIGTERM). /healthz answers as /readyz. Pure functions over the checks' states, which
// their owners keep (HealthMonitor, the ingress loops' Redis links).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace chatpipe {

struct CheckResult {
  std::string name;   // "kafka", "postgres", "redis"
  std::string state;  // "ok", or why not
};

struct ReadinessAnswer {
  bool ready = false;  // 200 when true, else 503
  // {"ready":bool,"status":"ok"|"not_ready"|"draining","instance":"..","checks":{"kafka":"ok",..}}
  std::string json;
};

ReadinessAnswer Readiness(std::string_view instance, bool draining, const std::vector<CheckResult>& checks);

// {"live":true,"instance":".."}
std::string LivenessJson(std::string_view instance);

}  // namespace chatpipe
