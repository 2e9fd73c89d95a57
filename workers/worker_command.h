// `chatpipe worker <name>`: runs one worker of a consumer group until SIGINT/SIGTERM.
#pragma once

#include <CLI/CLI.hpp>

namespace chatpipe {

void AddWorkerCommand(CLI::App& app);

}  // namespace chatpipe
