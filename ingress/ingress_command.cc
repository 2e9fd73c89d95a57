#include "ingress/ingress_command.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "common/signals.h"
#include "ingress/server.h"

namespace chatpipe {

void AddIngressCommand(CLI::App& app) {
  auto c = std::make_shared<IngressConfig>();
  CLI::App* cmd = app.add_subcommand("ingress", "serve the HTTP API, WebSockets and the web client");
  AddCommonOptions(cmd, &c->common);
  cmd->add_option("--host", c->host, "listen address")->envname("CHATPIPE_HOST")->capture_default_str();
  cmd->add_option("--port", c->port, "listen port (0: any free port, logged)")->envname("CHATPIPE_HTTP_PORT")->capture_default_str();
  cmd->add_option("--threads", c->threads, "event loops")->envname("CHATPIPE_THREADS")->capture_default_str();
  cmd->add_option("--db-threads", c->db_threads, "PostgreSQL connections (and threads)")->envname("CHATPIPE_DB_THREADS")->capture_default_str();
  cmd->add_option("--web-root", c->web_root, "directory of the built browser client")->envname("CHATPIPE_WEB_ROOT");
  cmd->add_option("--token-secret", c->token_secret, "secret that signs tokens, shared by all ingress instances")
      ->envname("CHATPIPE_TOKEN_SECRET");
  cmd->add_option("--instance", c->instance, "message id instance number 0-1023 (default: taken from Redis)")
      ->envname("CHATPIPE_INSTANCE");
  cmd->add_option("--kafka-timeout-ms", c->kafka_timeout_ms, "a send Kafka has not confirmed by then gets an error")
      ->envname("CHATPIPE_KAFKA_TIMEOUT_MS")->capture_default_str();
  cmd->add_option("--kafka-linger-ms", c->kafka_linger_ms,
                  "how long the producer gathers messages into one request: more is fewer, larger requests "
                  "(less CPU in ingress and Kafka) for that much more latency per message")
      ->envname("CHATPIPE_KAFKA_LINGER_MS")->capture_default_str();
  cmd->add_option("--tag-data", c->tag_data, "the tagger's word lists, for mask and block rooms (default: the source tree's)")
      ->envname("CHATPIPE_TAG_DATA");
  cmd->add_option("--max-output", c->max_output_bytes, "bytes a WebSocket reader may fall behind before it is dropped")
      ->envname("CHATPIPE_MAX_OUTPUT")->capture_default_str();
  AddConnectionLimitOptions(cmd, &c->connections);
  cmd->add_flag("--short-circuit", c->short_circuit,
                "benchmark floor only: ack and fan out messages in this process, skipping Kafka, the workers "
                "and Redis; nothing is stored (bench/run --server chatpipe-floor)")
      ->envname("CHATPIPE_SHORT_CIRCUIT");
  cmd->callback([c] {
    ApplyLogLevel(c->common);
    const std::atomic<bool>& stop = StopRequested();
    IngressServer server(*c);
    if (Status s = server.Start(); !s.ok()) {
      spdlog::error("ingress: {}", s.ToString());
      throw CLI::RuntimeError(1);
    }
    // The loops run on their own threads; this one only waits for a signal.
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    spdlog::info("ingress: stopping");
    server.Stop();
  });
}

}  // namespace chatpipe
