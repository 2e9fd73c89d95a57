#include "workers/worker_command.h"

#include <spdlog/spdlog.h>

#include <memory>

#include "common/config.h"
#include "common/signals.h"
#include "common/status_server.h"
#include "workers/persist/persister.h"

namespace chatpipe {
namespace {

struct WorkerOptions {
  CommonConfig common;
  std::string status_host = "127.0.0.1";
  int status_port = 0;
  size_t batch = 500;
};

void AddWorkerOptions(CLI::App* cmd, WorkerOptions* o) {
  AddCommonOptions(cmd, &o->common);
  cmd->add_option("--status-host", o->status_host, "address of /healthz and /metrics")
      ->envname("CHATPIPE_STATUS_HOST")->capture_default_str();
  cmd->add_option("--status-port", o->status_port, "port of /healthz and /metrics (0: any free port, logged)")
      ->envname("CHATPIPE_STATUS_PORT")->capture_default_str();
  cmd->add_option("--batch", o->batch, "most events applied per batch")->envname("CHATPIPE_BATCH")->capture_default_str();
}

// Starts the status server, runs `body` until a signal, and turns failures into an exit code.
int RunWorker(const WorkerOptions& o, const char* name, const std::function<Status(const std::atomic<bool>&)>& body) {
  ApplyLogLevel(o.common);
  const std::atomic<bool>& stop = StopRequested();
  auto status = StatusServer::Start(o.status_host, o.status_port, [] { return true; });
  if (!status.ok()) {
    spdlog::error("worker {}: {}", name, status.status().ToString());
    return 1;
  }
  spdlog::info("worker {}: /healthz and /metrics on http://{}:{}", name, o.status_host, (*status)->port());
  Status s = body(stop);
  if (!s.ok()) {
    spdlog::error("worker {}: {}", name, s.ToString());
    return 1;
  }
  spdlog::info("worker {}: stopped", name);
  return 0;
}

}  // namespace

void AddWorkerCommand(CLI::App& app) {
  CLI::App* worker = app.add_subcommand("worker", "run a worker of a consumer group (until SIGINT/SIGTERM)");
  worker->require_subcommand(1);

  auto persist_opts = std::make_shared<WorkerOptions>();
  CLI::App* persist = worker->add_subcommand(
      "persist", "store chat events in PostgreSQL, update Redis history and publish them to the rooms");
  AddWorkerOptions(persist, persist_opts.get());
  persist->callback([persist_opts] {
    int rc = RunWorker(*persist_opts, "persist", [&](const std::atomic<bool>& stop) {
      Persister persister(persist_opts->common, persist_opts->batch);
      if (Status s = persister.Start(); !s.ok()) return s;
      persister.Run(stop);
      return Status::Ok();
    });
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace chatpipe
