// Graceful stop on SIGINT/SIGTERM for the long-running subcommands: the handler only sets a flag that
// their loops check, so every process can flush and commit before it exits.
#pragma once

#include <atomic>

namespace chatpipe {

// Installs the handlers (once) and returns the flag they set.
const std::atomic<bool>& StopRequested();

}  // namespace chatpipe
