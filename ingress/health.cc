#include "ingress/health.h"

#include "storage/probes.h"

namespace chatpipe {

void StartHealthChecks(Services* services) {
  services->health = std::make_unique<HealthMonitor>();
  const std::string topic = services->config.common.Topic(kMessagesTopic);
  services->health->Set(
      "kafka", [services, topic] { return services->producer->CheckTopic(topic, kHealthCheckTimeout); },
      "not checked yet");
  auto pg = std::make_shared<PgProbe>(services->config.common.pg_conninfo);
  services->health->Set("postgres", [pg] { return pg->Check(kHealthCheckTimeout); }, "not checked yet");
  services->health->Start();
}

ReadinessAnswer IngressReadiness(const Services& services) {
  std::vector<CheckResult> checks = services.health ? services.health->Results() : std::vector<CheckResult>{};
  const int want = 2 * services.config.threads;  // a command and a subscriber link per loop
  const int down = want - services.redis_links_up.load(std::memory_order_relaxed);
  checks.push_back({"redis", down <= 0 ? "ok"
                                       : "Redis: " + std::to_string(down) + " of the loops' " + std::to_string(want) +
                                             " links are down (reconnecting)"});
  return Readiness(services.instance_id, services.draining.load(), checks);
}

}  // namespace chatpipe
