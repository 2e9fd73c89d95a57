// `chatpipe migrate`: brings a deployment's PostgreSQL schema and Kafka topics up to date.
#pragma once

#include <CLI/CLI.hpp>

#include "common/config.h"
#include "common/status.h"

namespace chatpipe {

// Applies the SQL migrations and creates the topics (`partitions` each) that are missing, each kept on
// `replication` brokers; with more than one, a write needs all but one of them in sync
// (min.insync.replicas), so acks=all survives the loss of one broker without a false ack.
Status Migrate(const CommonConfig& config, int partitions, int replication = 1);
void AddMigrateCommand(CLI::App& app);

}  // namespace chatpipe
