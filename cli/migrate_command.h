// `chatpipe migrate`: brings a deployment's PostgreSQL schema and Kafka topics up to date.
#pragma once

#include <CLI/CLI.hpp>

#include "common/config.h"
#include "common/status.h"

namespace chatpipe {

// Applies the SQL migrations and creates the topics (`partitions` each) that are missing.
Status Migrate(const CommonConfig& config, int partitions);
void AddMigrateCommand(CLI::App& app);

}  // namespace chatpipe
