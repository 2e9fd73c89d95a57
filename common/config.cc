#include "common/config.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>

namespace chatpipe {

bool ParseRedisAddresses(const std::string& list, std::vector<RedisAddress>* out, std::string* error) {
  out->clear();
  size_t start = 0;
  for (;;) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string item = list.substr(start, comma - start);
    const size_t colon = item.rfind(':');
    RedisAddress a{item.substr(0, colon), 6379};
    if (colon != std::string::npos) {
      const std::string port = item.substr(colon + 1);
      char* end = nullptr;
      const long p = std::strtol(port.c_str(), &end, 10);
      if (port.empty() || *end || p < 1 || p > 65535) {
        *error = "bad Redis port in '" + item + "'";
        return false;
      }
      a.port = static_cast<int>(p);
    }
    if (a.host.empty()) {
      *error = "a Redis address needs a host: '" + item + "'";
      return false;
    }
    out->push_back(std::move(a));
    if (comma == list.size()) return true;
    start = comma + 1;
  }
}

std::vector<RedisAddress> CommonConfig::RedisShards() const {
  std::vector<RedisAddress> shards;
  std::string error;
  ParseRedisAddresses(redis_addr, &shards, &error);
  return shards;
}

void AddCommonOptions(CLI::App* app, CommonConfig* c) {
  app->add_option("--kafka", c->kafka_brokers, "Kafka bootstrap servers")->envname("CHATPIPE_KAFKA")->capture_default_str();
  app->add_option("--pg", c->pg_conninfo, "PostgreSQL conninfo")->envname("CHATPIPE_PG")->capture_default_str();
  app->add_option("--redis", c->redis_addr,
                  "Redis host:port; several, comma-separated, are shards that keys and channels are spread over "
                  "(keep their order, add new ones at the end; workers only so far: the ingress takes one)")
      ->envname("CHATPIPE_REDIS")
      ->capture_default_str()
      ->check([](const std::string& list) {
        std::vector<RedisAddress> shards;
        std::string error;
        return ParseRedisAddresses(list, &shards, &error) ? std::string() : error;
      });
  app->add_option("--namespace", c->ns, "prefix of every topic, consumer group and Redis key (isolates a stack)")
      ->envname("CHATPIPE_NAMESPACE");
  app->add_option("--log-level", c->log_level, "trace, debug, info, warn, error")->envname("CHATPIPE_LOG_LEVEL")->capture_default_str();
}

void ApplyLogLevel(const CommonConfig& c) { spdlog::set_level(spdlog::level::from_str(c.log_level)); }

}  // namespace chatpipe
