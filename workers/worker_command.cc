#include "workers/worker_command.h"

#include <spdlog/spdlog.h>

#include <memory>

#include "common/config.h"
#include "common/signals.h"
#include "common/status_server.h"
#include "workers/mail/mail_worker.h"
#include "workers/mention/mention_worker.h"
#include "workers/persist/persister.h"
#include "workers/tag/tag_worker.h"

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

  auto tag_opts = std::make_shared<WorkerOptions>();
  auto tag_settings = std::make_shared<TagWorkerOptions>();
  auto tag_data = std::make_shared<std::string>(DefaultTagDataDir());
  CLI::App* tag = worker->add_subcommand(
      "tag", "tag chat messages (language, sentiment, profanity), store the tags and show them to the rooms");
  AddWorkerOptions(tag, tag_opts.get());
  tag->add_option("--data", *tag_data, "directory of the tagger's word lists")
      ->envname("CHATPIPE_TAG_DATA")->check(CLI::ExistingDirectory)->capture_default_str();
  tag->add_option("--placement-wait-ms", tag_settings->placement_wait_ms,
                  "how long tags wait for the persister to put their message in the room's history; then "
                  "the tags frame is published without it")
      ->envname("CHATPIPE_TAG_PLACEMENT_WAIT_MS")->capture_default_str();
  tag->callback([tag_opts, tag_settings, tag_data] {
    int rc = RunWorker(*tag_opts, "tag", [&](const std::atomic<bool>& stop) {
      auto tagger = Tagger::Load(*tag_data);
      if (!tagger.ok()) return tagger.status();
      spdlog::info("tag: tagger version {} (word lists in {})", (*tagger)->version(), *tag_data);
      tag_settings->batch = tag_opts->batch;
      TagWorker worker(tag_opts->common, **tagger, *tag_settings);
      if (Status s = worker.Start(); !s.ok()) return s;
      worker.Run(stop);
      return Status::Ok();
    });
    if (rc != 0) throw CLI::RuntimeError(rc);
  });

  auto mention_opts = std::make_shared<WorkerOptions>();
  CLI::App* mention = worker->add_subcommand(
      "mention", "store @mentions, notify the mentioned users live and, when they are away, by e-mail (chat.notify)");
  AddWorkerOptions(mention, mention_opts.get());
  mention->callback([mention_opts] {
    int rc = RunWorker(*mention_opts, "mention", [&](const std::atomic<bool>& stop) {
      MentionWorker worker(mention_opts->common, {mention_opts->batch});
      if (Status s = worker.Start(); !s.ok()) return s;
      worker.Run(stop);
      return Status::Ok();
    });
    if (rc != 0) throw CLI::RuntimeError(rc);
  });

  auto mail_opts = std::make_shared<WorkerOptions>();
  auto mail_settings = std::make_shared<mail::MailSettings>();
  CLI::App* mail = worker->add_subcommand(
      "mail", "e-mail offline users their mentions, batched per user, through a rate-limited SMTP mailer");
  AddWorkerOptions(mail, mail_opts.get());
  mail::AddMailOptions(mail, mail_settings.get());
  mail->callback([mail_opts, mail_settings] {
    int rc = RunWorker(*mail_opts, "mail", [&](const std::atomic<bool>& stop) {
      mail::MailWorker worker(mail_opts->common, *mail_settings, mail_opts->batch);
      if (Status s = worker.Start(); !s.ok()) return s;
      worker.Run(stop);
      return Status::Ok();
    });
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace chatpipe
