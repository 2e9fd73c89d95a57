#include "cli/migrate_command.h"

#include <spdlog/spdlog.h>

#include "queue/kafka.h"
#include "storage/migrate.h"

namespace chatpipe {

Status Migrate(const CommonConfig& config, int partitions) {
  PgConn pg(config.pg_conninfo);
  int applied = 0;
  if (Status s = MigrateDatabase(pg, &applied); !s.ok()) return s;
  spdlog::info("migrate: {} SQL migration(s) applied, {} known", applied, Migrations().size());
  return CreateTopics(config.kafka_brokers,
                      {{config.Topic(kMessagesTopic), partitions, 1},
                       {config.Topic(kNotifyTopic), partitions, 1},
                       {config.Topic(kSpeechTopic), partitions, 1},
                       {config.Topic(kBoardTopic), partitions, 1},
                       {config.Topic(kDeadLetterTopic), 1, 1}},
                      std::chrono::seconds(30));
}

void AddMigrateCommand(CLI::App& app) {
  struct Options {
    CommonConfig common;
    int partitions = 4;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("migrate", "apply SQL migrations and create the Kafka topics (idempotent)");
  AddCommonOptions(cmd, &o->common);
  cmd->add_option("--partitions", o->partitions, "partitions of a new chat.messages topic")
      ->envname("CHATPIPE_PARTITIONS")->capture_default_str();
  cmd->callback([o] {
    ApplyLogLevel(o->common);
    if (Status s = Migrate(o->common, o->partitions); !s.ok()) {
      spdlog::error("migrate: {}", s.ToString());
      throw CLI::RuntimeError(1);
    }
    spdlog::info("migrate: done");
  });
}

}  // namespace chatpipe
