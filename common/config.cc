#include "common/config.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "common/log.h"

namespace chatpipe {
namespace {

// "ingress", "worker persist": the names from below the root down to `app`.
std::vector<std::string> CommandPath(const CLI::App* app) {
  std::vector<std::string> path;
  for (; app && app->get_parent(); app = app->get_parent()) path.insert(path.begin(), app->get_name());
  return path;
}

std::string Join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

// The subcommand a section names, from the root; nullptr when there is none.
CLI::App* FindCommand(CLI::App* root, const std::vector<std::string>& path) {
  CLI::App* app = root;
  for (const auto& name : path) {
    CLI::App* next = nullptr;
    for (CLI::App* sub : app->get_subcommands([](CLI::App*) { return true; }))
      if (sub->get_name() == name) next = sub;
    if (!next) return nullptr;
    app = next;
  }
  return app;
}

}  // namespace

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

Status ApplyConfigFile(CLI::App* app, const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("bad_config", "cannot read --config " + path);
  std::vector<CLI::ConfigItem> items = CLI::ConfigTOML().from_config(in);
  CLI::App* root = app;
  while (root->get_parent()) root = root->get_parent();
  const std::vector<std::string> own = CommandPath(app);
  // Every key is checked, whichever subcommand runs, so a typo shows at once, not when that one starts.
  for (const auto& item : items) {
    if (item.name == "++" || item.name == "--") continue;
    const std::string where = item.parents.empty() ? "" : " in [" + Join(item.parents, ".") + "]";
    CLI::App* target = item.parents.empty() ? app : FindCommand(root, item.parents);
    if (!target) return Status::InvalidArgument("bad_config", path + ": unknown section [" + Join(item.parents, ".") + "]");
    if (item.name == "config" || item.name == "help" || !target->get_option_no_throw("--" + item.name))
      return Status::InvalidArgument("bad_config", path + ": unknown key '" + item.name + "'" + where);
  }
  // The section's keys first: an option they set is then taken, and the top-level key is skipped.
  for (bool section : {true, false}) {
    for (const auto& item : items) {
      if (item.name == "++" || item.name == "--") continue;
      if (section ? item.parents != own : !item.parents.empty()) continue;
      CLI::Option* opt = app->get_option("--" + item.name);
      if (opt->count() > 0) continue;  // a flag or an environment variable said otherwise
      try {
        if (opt->get_expected_min() == 0)
          opt->add_result(opt->get_flag_value(item.name, item.inputs.empty() ? "true" : item.inputs.front()));
        else
          opt->add_result(item.inputs);
        opt->run_callback();
      } catch (const CLI::Error& e) {
        return Status::InvalidArgument("bad_config", path + ": " + item.name + ": " + e.what());
      }
    }
  }
  return Status::Ok();
}

void AddCommonOptions(CLI::App* app, CommonConfig* c) {
  c->process = Join(CommandPath(app), " ");
  app->add_option("--kafka", c->kafka_brokers, "Kafka bootstrap servers")->envname("CHATPIPE_KAFKA")->capture_default_str();
  app->add_option("--pg", c->pg_conninfo, "PostgreSQL conninfo")->envname("CHATPIPE_PG")->capture_default_str();
  app->add_option("--redis", c->redis_addr,
                  "Redis host:port; several, comma-separated, are shards that keys and channels are spread over "
                  "(every process takes the same list: keep its order, add new shards at the end)")
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
  app->add_option("--log-format", c->log_format,
                  "log lines on stderr: json (one object a line), text, or auto (text on a terminal, else json)")
      ->envname("CHATPIPE_LOG_FORMAT")->check(CLI::IsMember({"auto", "json", "text"}))->capture_default_str();
  app->add_option("--config", c->config_file,
                  "TOML file of settings, keys named as the long flags (kafka = \"...\"), a [section] per subcommand "
                  "([worker.persist]); a flag or environment variable wins over it (ops/chatpipe.example.toml)")
      ->envname("CHATPIPE_CONFIG");
  // Runs once this subcommand's flags and environment variables are in, before its callback.
  app->parse_complete_callback([app] {
    CLI::Option* config = app->get_option("--config");
    if (config->count() == 0) return;
    if (Status s = ApplyConfigFile(app, config->as<std::string>()); !s.ok()) throw CLI::ConfigError(s.ToString());
  });
}

void ApplyLogLevel(const CommonConfig& c) {
  spdlog::set_level(spdlog::level::from_str(c.log_level));
  LogFormat format = LogFormat::kText;
  ParseLogFormat(c.log_format, &format);  // the flag's check allows only known names
  InstallLogger(format, c.process, DefaultLogInstance());
}

}  // namespace chatpipe
