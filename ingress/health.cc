#include "ingress/health.h"

#include <spdlog/spdlog.h>

#include <cstdlib>

#include "storage/probes.h"

namespace chatpipe {

namespace {

// The next number of PostgreSQL's sequence (storage/migrations/014_ingress_instance.sql), mod 1024.
Status TakeInstanceNumber(Services& services, PgProbe& pg) {
  std::string n;
  if (Status s = pg.Check(kHealthCheckTimeout, "SELECT nextval('ingress_instance') % 1024", &n); !s.ok()) return s;
  services.ids.SetInstance(static_cast<uint32_t>(std::strtoul(n.c_str(), nullptr, 10)));
  spdlog::info("ingress {}: message ids carry instance number {}", services.instance_id, n);
  return Status::Ok();
}

}  // namespace

void StartHealthChecks(Services* services) {
  services->health = std::make_unique<HealthMonitor>();
  const std::string topic = services->config.common.Topic(kMessagesTopic);
  services->health->Set(
      "kafka", [services, topic] { return services->producer->CheckTopic(topic, kHealthCheckTimeout); },
      "not checked yet");
  auto pg = std::make_shared<PgProbe>(services->config.common.pg_conninfo);
  // Taken here, before the loops listen, when PostgreSQL answers at once; else by the check, which
  // keeps the ingress not ready (and its sends refused) until PostgreSQL is back.
  if (!services->ids.HasInstance() && !TakeInstanceNumber(*services, *pg).ok())
    spdlog::warn("ingress {}: PostgreSQL is away: no message id instance number yet", services->instance_id);
  services->health->Set(
      "postgres",
      [services, pg] {
        return services->ids.HasInstance() ? pg->Check(kHealthCheckTimeout) : TakeInstanceNumber(*services, *pg);
      },
      "not checked yet");
  services->health->Start();
}

ReadinessAnswer IngressReadiness(const Services& services) {
  std::vector<CheckResult> checks = services.health ? services.health->Results() : std::vector<CheckResult>{};
  // A command and a subscriber link per loop and Redis shard.
  const int want = 2 * services.config.threads * static_cast<int>(services.config.common.RedisShards().size());
  const int down = want - services.redis_links_up.load(std::memory_order_relaxed);
  checks.push_back({"redis", down <= 0 ? "ok"
                                       : "Redis: " + std::to_string(down) + " of the loops' " + std::to_string(want) +
                                             " links are down (reconnecting)"});
  return Readiness(services.instance_id, services.draining.load(), checks);
}

}  // namespace chatpipe
