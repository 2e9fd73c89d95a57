#include "workers/worker_command.h"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <memory>

#include "common/config.h"
#include "common/health_monitor.h"
#include "common/rfc3339.h"
#include "common/signals.h"
#include "common/status_server.h"
#include "storage/probes.h"
#include "workers/board/board_worker.h"
#include "workers/consume/worker_metrics.h"
#include "workers/mail/mail_worker.h"
#include "workers/mention/mention_worker.h"
#include "workers/persist/persister.h"
#include "workers/speech/speech_worker.h"
#include "workers/tag/tag_worker.h"

namespace chatpipe {
namespace {

struct WorkerOptions {
  CommonConfig common;
  std::string status_host = "127.0.0.1";
  int status_port = 0;
  size_t batch = 500;
  std::string group;     // empty: the worker's own (its name)
  std::string from, to;  // a range run's span, RFC 3339
  ConsumeRange range;    // from and to, parsed
};

void AddWorkerOptions(CLI::App* cmd, WorkerOptions* o) {
  AddCommonOptions(cmd, &o->common);
  cmd->add_option("--status-host", o->status_host, "address of /livez, /readyz, /healthz and /metrics")
      ->envname("CHATPIPE_STATUS_HOST")->capture_default_str();
  cmd->add_option("--status-port", o->status_port,
                  "port of /livez, /readyz, /healthz and /metrics (0: any free port, logged)")
      ->envname("CHATPIPE_STATUS_PORT")->capture_default_str();
  cmd->add_option("--batch", o->batch, "most events applied per batch")->envname("CHATPIPE_BATCH")->capture_default_str();
  // Flags only, no environment: a range run is one command, and a variable set for a deployment would
  // put all its workers in one group.
  cmd->add_option("--group", o->group,
                  "consumer group (before namespacing) instead of the worker's own: a range run's fresh group");
  cmd->add_option("--from", o->from,
                  "range run: a fresh --group starts at the first events at or after this RFC 3339 time");
  cmd->add_option("--to", o->to, "range run: stop by itself once every partition passed this RFC 3339 time");
}

// The live groups of the workers (`chatpipe worker <name>` consumes as group <name>).
constexpr const char* kWorkerGroups[] = {"persist", "tag", "mention", "mail", "speech", "board"};

// Reads --from and --to into o->range and settles the group. A range needs a group of its own, so that
// the live group's offsets are never moved; and no worker joins another's live group, where it would
// take that worker's partitions and commit past events the other never applied.
Status SettleGroupAndRange(const char* name, WorkerOptions* o) {
  for (const char* live : kWorkerGroups)
    if (o->group == live && o->group != name)
      return Status::InvalidArgument("bad_group", "--group " + o->group + " is the live group of worker " + live +
                                                      ": this worker would take its partitions; use a group of its own");
  for (auto [text, ms] : {std::pair{&o->from, &o->range.from_ms}, std::pair{&o->to, &o->range.to_ms}}) {
    if (text->empty()) continue;
    auto t = ParseRfc3339(*text);
    if (!t.ok()) return t.status();
    *ms = *t;
  }
  if (o->range.active() && (o->group.empty() || o->group == name))
    return Status::InvalidArgument("bad_range", std::string("--from/--to need a --group of their own, not the live ") +
                                                    name + " group");
  if (o->range.from_ms >= 0 && o->range.to_ms >= 0 && o->range.from_ms >= o->range.to_ms)
    return Status::InvalidArgument("bad_range", "--from must be before --to");
  if (o->group.empty()) o->group = name;
  return Status::Ok();
}

// The checks of a worker's /readyz: PostgreSQL and Redis (every shard), which every worker uses, each
// probed on a connection of the monitor's own; Kafka's is added once the worker has started
// (StartAndRun).
void AddEngineChecks(const CommonConfig& c, HealthMonitor& health) {
  health.Set("kafka", {}, "not started yet");
  auto pg = std::make_shared<PgProbe>(c.pg_conninfo);
  health.Set("postgres", [pg] { return pg->Check(kHealthCheckTimeout); }, "not checked yet");
  std::vector<std::shared_ptr<RedisProbe>> shards;
  for (const RedisAddress& a : c.RedisShards()) shards.push_back(std::make_shared<RedisProbe>(a.host, a.port));
  // Up to the first shard that fails: the check stays within about one shard's timeout.
  health.Set("redis", [shards] {
    for (const auto& shard : shards)
      if (Status s = shard->Check(kHealthCheckTimeout); !s.ok()) return s;
    return Status::Ok();
  }, "not checked yet");
}

using Body = std::function<Status(const std::atomic<bool>&, HealthMonitor&)>;

// Starts the status server and the health checks, runs `body` until a signal, and turns failures into
// an exit code. A worker told to stop answers /readyz "draining" while it finishes.
int RunWorker(const WorkerOptions& o, const char* name, const Body& body) {
  ApplyLogLevel(o.common);
  const std::atomic<bool>& stop = StopRequested();
  const std::string instance = std::string(name) + "-" + std::to_string(::getpid());
  HealthMonitor health;
  AddEngineChecks(o.common, health);
  health.Start();
  // The worker's series exist, at zero, from the first scrape: the consume loop registers them only
  // once built, after the status server is up, and a scrape in between had none (an absent series is
  // "no data" to an alert, and MonitoringTest saw it on a loaded machine).
  WorkerMetrics::For(name);
  auto status = StatusServer::Start(o.status_host, o.status_port, instance,
                                    [&] { return Readiness(instance, stop.load(), health.Results()); });
  if (!status.ok()) {
    spdlog::error("worker {}: {}", name, status.status().ToString());
    return 1;
  }
  spdlog::info("worker {}: /livez, /readyz, /healthz and /metrics on http://{}:{}", name, o.status_host,
               (*status)->port());
  Status s = body(stop, health);
  if (!s.ok()) {
    spdlog::error("worker {}: {}", name, s.ToString());
    return 1;
  }
  spdlog::info("worker {}: stopped", name);
  return 0;
}

using RunFn = std::function<Status(const WorkerOptions&, const std::atomic<bool>&, HealthMonitor&)>;

// `chatpipe worker <name>`: the common flags, then the worker's own (`add_options`, may be empty); `run`
// builds the worker from them and runs it.
void AddWorker(CLI::App* parent, const char* name, const char* description,
               const std::function<void(CLI::App*)>& add_options, RunFn run) {
  auto options = std::make_shared<WorkerOptions>();
  CLI::App* cmd = parent->add_subcommand(name, description);
  AddWorkerOptions(cmd, options.get());
  if (add_options) add_options(cmd);
  cmd->callback([options, name, run = std::move(run)] {
    if (Status s = SettleGroupAndRange(name, options.get()); !s.ok()) {
      spdlog::error("worker {}: {}", name, s.ToString());
      throw CLI::RuntimeError(2);
    }
    int rc = RunWorker(*options, name, [&](const std::atomic<bool>& stop, HealthMonitor& health) {
      return run(*options, stop, health);
    });
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

// Starts the worker, adds its Kafka check while it runs, and runs it until `stop`.
template <typename Worker>
Status StartAndRun(Worker& worker, const std::atomic<bool>& stop, HealthMonitor& health) {
  if (Status s = worker.Start(); !s.ok()) return s;
  health.Set("kafka", [&worker] { return worker.CheckKafka(kHealthCheckTimeout); }, "joining its group");
  worker.Run(stop);
  health.Set("kafka", {}, "stopped");  // the worker dies with the caller's scope: its check goes first
  return Status::Ok();
}

void AddTagWorker(CLI::App* parent) {
  auto settings = std::make_shared<TagWorkerOptions>();
  auto data = std::make_shared<std::string>(DefaultTagDataDir());
  auto add_options = [settings, data](CLI::App* cmd) {
    cmd->add_option("--data", *data, "directory of the tagger's word lists")
        ->envname("CHATPIPE_TAG_DATA")->check(CLI::ExistingDirectory)->capture_default_str();
    cmd->add_option("--placement-wait-ms", settings->placement_wait_ms,
                    "how long tags wait for the persister to put their message in the room's history; then "
                    "the tags frame is published without it")
        ->envname("CHATPIPE_TAG_PLACEMENT_WAIT_MS")->capture_default_str();
    cmd->add_option("--gather-ms", settings->gather_ms,
                    "how long a batch keeps gathering messages after its first, up to --batch: clients have "
                    "the tags from the message frame, and larger batches cost PostgreSQL less per message")
        ->envname("CHATPIPE_TAG_GATHER_MS")->check(CLI::Range(0, 10000))->capture_default_str();
  };
  AddWorker(parent, "tag",
            "tag chat messages (language, sentiment, profanity), store the tags and show them to the rooms",
            add_options,
            [settings, data](const WorkerOptions& o, const std::atomic<bool>& stop, HealthMonitor& health) {
              auto tagger = Tagger::Load(*data);
              if (!tagger.ok()) return tagger.status();
              spdlog::info("tag: tagger version {} (word lists in {})", (*tagger)->version(), *data);
              settings->batch = o.batch;
              settings->group = o.group;
              settings->range = o.range;
              TagWorker worker(o.common, **tagger, *settings);
              return StartAndRun(worker, stop, health);
            });
}

void AddMailWorker(CLI::App* parent) {
  auto settings = std::make_shared<mail::MailSettings>();
  AddWorker(parent, "mail",
            "e-mail offline users their mentions, batched per user, through a rate-limited SMTP mailer",
            [settings](CLI::App* cmd) { mail::AddMailOptions(cmd, settings.get()); },
            [settings](const WorkerOptions& o, const std::atomic<bool>& stop, HealthMonitor& health) {
              mail::MailWorker worker(o.common, *settings, o.batch, o.group, o.range);
              return StartAndRun(worker, stop, health);
            });
}

void AddSpeechWorker(CLI::App* parent) {
  auto settings = std::make_shared<SpeechWorkerOptions>();
  auto store = std::make_shared<ObjectStoreConfig>();
  auto data = std::make_shared<std::string>(DefaultTagDataDir());
  auto add_options = [settings, store, data](CLI::App* cmd) {
    AddObjectStoreOptions(cmd, store.get());
    cmd->add_option("--data", *data, "directory of the tagger's word lists (the language of untagged messages)")
        ->envname("CHATPIPE_TAG_DATA")->check(CLI::ExistingDirectory)->capture_default_str();
    cmd->add_option("--max-text-bytes", settings->limits.max_text_bytes,
                    "longest message text read aloud, in bytes; longer ones are skipped")
        ->envname("CHATPIPE_SPEECH_MAX_TEXT_BYTES")->check(CLI::Range(size_t{1}, size_t{1} << 20))
        ->capture_default_str();
  };
  AddWorker(parent, "speech",
            "read messages aloud on request (chat.speech): Ogg Opus in the object store, a frame to each asker",
            add_options,
            [settings, store, data](const WorkerOptions& o, const std::atomic<bool>& stop, HealthMonitor& health) {
              auto tagger = Tagger::Load(*data);
              if (!tagger.ok()) return tagger.status();
              auto objects = OpenObjectStore(*store);
              if (!objects.ok()) return objects.status();
              spdlog::info("speech: {}, objects in {}", SpeechEngineVersion(), (*objects)->Describe());
              settings->batch = o.batch;
              settings->group = o.group;
              settings->range = o.range;
              SpeechWorker worker(o.common, **objects, **tagger, *settings);
              return StartAndRun(worker, stop, health);
            });
}

void AddBoardWorker(CLI::App* parent) {
  auto settings = std::make_shared<BoardWorkerOptions>();
  AddWorker(parent, "board",
            "apply placements on the pixel board (board.pixels): history to PostgreSQL, the live board and its "
            "frames to Redis",
            [settings](CLI::App* cmd) { AddBoardOptions(cmd, &settings->board); },
            [settings](const WorkerOptions& o, const std::atomic<bool>& stop, HealthMonitor& health) {
              settings->batch = o.batch;
              settings->group = o.group;
              settings->range = o.range;
              BoardWorker worker(o.common, *settings);
              return StartAndRun(worker, stop, health);
            });
}

}  // namespace

void AddWorkerCommand(CLI::App& app) {
  CLI::App* worker = app.add_subcommand("worker", "run a worker of a consumer group (until SIGINT/SIGTERM)");
  worker->require_subcommand(1);
  AddWorker(worker, "persist",
            "store chat events in PostgreSQL, update Redis history and publish them to the rooms", {},
            [](const WorkerOptions& o, const std::atomic<bool>& stop, HealthMonitor& health) {
              Persister persister(o.common, o.batch, o.group, o.range);
              return StartAndRun(persister, stop, health);
            });
  AddTagWorker(worker);
  auto mention = std::make_shared<MentionWorkerOptions>();
  AddWorker(worker, "mention",
            "store @mentions, notify the mentioned users live and, when they are away, by e-mail (chat.notify)",
            [mention](CLI::App* cmd) {
              cmd->add_option("--max-mentions", mention->max_mentions,
                              "users one message may mention: only its first ones are notified (ingress refuses more)")
                  ->envname("CHATPIPE_MAX_MENTIONS")->check(CLI::Range(1, 1000))->capture_default_str();
              cmd->add_option("--email-max-age-s", mention->email_max_age_s,
                              "mentions in messages older than this get no e-mail (a replay of history, a worker "
                              "far behind): the inbox and the live notification only")
                  ->envname("CHATPIPE_EMAIL_MAX_AGE_S")->check(CLI::Range(int64_t{1}, int64_t{365} * 86400))
                  ->capture_default_str();
            },
            [mention](const WorkerOptions& o, const std::atomic<bool>& stop, HealthMonitor& health) {
              mention->batch = o.batch;
              mention->group = o.group;
              mention->range = o.range;
              MentionWorker worker(o.common, *mention);
              return StartAndRun(worker, stop, health);
            });
  AddMailWorker(worker);
  AddSpeechWorker(worker);
  AddBoardWorker(worker);
}

}  // namespace chatpipe
