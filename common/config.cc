#include "common/config.h"

#include <spdlog/spdlog.h>

namespace chatpipe {

std::string CommonConfig::RedisHost() const {
  auto colon = redis_addr.rfind(':');
  return colon == std::string::npos ? redis_addr : redis_addr.substr(0, colon);
}

int CommonConfig::RedisPort() const {
  auto colon = redis_addr.rfind(':');
  return colon == std::string::npos ? 6379 : std::atoi(redis_addr.c_str() + colon + 1);
}

void AddCommonOptions(CLI::App* app, CommonConfig* c) {
  app->add_option("--kafka", c->kafka_brokers, "Kafka bootstrap servers")->envname("CHATPIPE_KAFKA")->capture_default_str();
  app->add_option("--pg", c->pg_conninfo, "PostgreSQL conninfo")->envname("CHATPIPE_PG")->capture_default_str();
  app->add_option("--redis", c->redis_addr, "Redis host:port")->envname("CHATPIPE_REDIS")->capture_default_str();
  app->add_option("--namespace", c->ns, "prefix of every topic, consumer group and Redis key (isolates a stack)")
      ->envname("CHATPIPE_NAMESPACE");
  app->add_option("--log-level", c->log_level, "trace, debug, info, warn, error")->envname("CHATPIPE_LOG_LEVEL")->capture_default_str();
}

void ApplyLogLevel(const CommonConfig& c) { spdlog::set_level(spdlog::level::from_str(c.log_level)); }

}  // namespace chatpipe
