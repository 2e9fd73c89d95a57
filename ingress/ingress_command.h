// `chatpipe ingress`: the HTTP/WebSocket front door, until SIGINT/SIGTERM.
#pragma once

#include <CLI/CLI.hpp>

namespace chatpipe {

void AddIngressCommand(CLI::App& app);

}  // namespace chatpipe
