// chatpipe: one executable, one subcommand per process role. See `chatpipe --help`.
#include <CLI/CLI.hpp>

#include "cli/board_command.h"
#include "cli/deadletter_command.h"
#include "cli/groups_command.h"
#include "cli/migrate_command.h"
#include "cli/replay_command.h"
#include "cli/stats_command.h"
#include "ingress/ingress_command.h"
#include "cli/tag_command.h"
#include "workers/worker_command.h"

int main(int argc, char** argv) {
  CLI::App app{"chatpipe: a real-time chat backend (ingress -> Kafka -> workers -> PostgreSQL + Redis)"};
  app.require_subcommand(1);
  chatpipe::AddIngressCommand(app);
  chatpipe::AddWorkerCommand(app);
  chatpipe::AddMigrateCommand(app);
  chatpipe::AddTagCommand(app);
  chatpipe::AddDeadLetterCommand(app);
  chatpipe::AddGroupsCommand(app);
  chatpipe::AddReplayCommand(app);
  chatpipe::AddStatsCommand(app);
  chatpipe::AddBoardCommand(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
