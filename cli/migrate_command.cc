#include "cli/migrate_command.h"

#include <spdlog/spdlog.h>

#include "queue/kafka.h"
#include "storage/migrate.h"

namespace chatpipe {

Status Migrate(const CommonConfig& config, int partitions, int replication) {
  PgConn pg(config.pg_conninfo);
  int applied = 0;
  if (Status s = MigrateDatabase(pg, &applied); !s.ok()) return s;
  spdlog::info("migrate: {} SQL migration(s) applied, {} known", applied, Migrations().size());
  const int r = replication;
  const std::vector<TopicSpec> topics = {{config.Topic(kMessagesTopic), partitions, r},
                                         {config.Topic(kNotifyTopic), partitions, r},
                                         {config.Topic(kSpeechTopic), partitions, r},
                                         {config.Topic(kBoardTopic), partitions, r},
                                         {config.Topic(kDeadLetterTopic), 1, r}};
  // A cluster that has just started may answer a first client's metadata before its brokers agree on
  // who is there, and that client then waits for a controller it never learns of: a new client asks
  // again. Three tries of 10 s keep the old bound of 30 s.
  Status s;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    s = CreateTopics(config.kafka_brokers, topics, std::chrono::seconds(10));
    if (s.code() != StatusCode::kUnavailable) break;
    spdlog::warn("migrate: creating the topics, try {} of 3: {}", attempt, s.ToString());
  }
  return s;
}

void AddMigrateCommand(CLI::App& app) {
  struct Options {
    CommonConfig common;
    int partitions = 4;
    int replication = 1;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("migrate", "apply SQL migrations and create the Kafka topics (idempotent)");
  AddCommonOptions(cmd, &o->common);
  cmd->add_option("--partitions", o->partitions, "partitions of a new chat.messages topic")
      ->envname("CHATPIPE_PARTITIONS")->capture_default_str();
  cmd->add_option("--kafka-replication", o->replication,
                  "brokers that keep each new topic (3 in a cluster; min.insync.replicas is one less)")
      ->envname("CHATPIPE_KAFKA_REPLICATION")->check(CLI::Range(1, 16))->capture_default_str();
  cmd->callback([o] {
    ApplyLogLevel(o->common);
    if (Status s = Migrate(o->common, o->partitions, o->replication); !s.ok()) {
      spdlog::error("migrate: {}", s.ToString());
      throw CLI::RuntimeError(1);
    }
    spdlog::info("migrate: done");
  });
}

}  // namespace chatpipe
