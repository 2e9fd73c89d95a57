#include "ingress/ingress_command.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <thread>

#include "common/process_group.h"
#include "common/signals.h"
#include "ingress/server.h"

namespace chatpipe {
namespace {

void AddSecurityOptions(CLI::App* cmd, IngressConfig* c) {
  cmd->add_option("--token-secret-file", c->token_secret_file,
                  "file holding the secret that signs tokens, shared by all ingress instances, at least 32 bytes "
                  "(else the environment's CHATPIPE_TOKEN_SECRET; with neither, a random one)")
      ->envname("CHATPIPE_TOKEN_SECRET_FILE");
  cmd->add_option("--token-ttl-s", c->token_ttl_s, "seconds a token is valid; clients renew it before then")
      ->envname("CHATPIPE_TOKEN_TTL_S")->capture_default_str()->check(CLI::Range(60, 30 * 24 * 3600));
  cmd->add_option("--allowed-origins", c->allowed_origins,
                  "comma-separated page origins (https://chat.example.com) that may open a WebSocket besides "
                  "the one the request was sent to; a request without Origin (not a browser) is always allowed")
      ->envname("CHATPIPE_ALLOWED_ORIGINS")->delimiter(',');
  cmd->add_option("--trusted-proxies", c->trusted_proxies,
                  "comma-separated CIDR ranges (127.0.0.1/32,10.0.0.0/8) of proxies whose X-Forwarded-For names "
                  "the client: the rightmost address in it that is not itself trusted is the one per-address "
                  "limits count; empty: every peer is its own client (docs/security.md)")
      ->envname("CHATPIPE_TRUSTED_PROXIES")
      ->check([](const std::string& list) {
        TrustedProxies proxies;
        std::string error;
        return TrustedProxies::Parse(list, &proxies, &error) ? std::string() : error;
      });
  cmd->add_option("--metrics-host", c->metrics_host, "address of the side /metrics listener (with --metrics-port)")
      ->envname("CHATPIPE_METRICS_HOST")->capture_default_str();
  cmd->add_option("--metrics-port", c->metrics_port,
                  "serve /metrics on this port of --metrics-host instead of --port, with /livez, /readyz and "
                  "/healthz as well (0: any free port, logged; -1: /metrics on --port)")
      ->envname("CHATPIPE_METRICS_PORT")->capture_default_str();
  cmd->add_option("--metrics-allow", c->metrics_allow,
                  "CIDR ranges of the clients /metrics on --port answers (others get 403); the client is the one "
                  "--trusted-proxies resolves; empty: nobody (without --metrics-port)")
      ->envname("CHATPIPE_METRICS_ALLOW")
      ->capture_default_str()
      ->check([](const std::string& list) {
        AddressRanges ranges;
        std::string error;
        return AddressRanges::Parse(list, &ranges, &error) ? std::string() : error;
      });
}

// One ingress in this process, until SIGTERM/SIGINT: started, `started()` called, then drained and
// stopped. The exit code.
int Serve(IngressServer& server, const IngressConfig& c, const std::function<void()>& started) {
  const std::atomic<bool>& stop = StopRequested();
  if (Status s = server.Start(); !s.ok()) {
    spdlog::error("ingress: {}", s.ToString());
    return 1;
  }
  started();
  // The loops run on their own threads; this one only waits for a signal.
  while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  spdlog::info("ingress: draining (at most {} ms)", c.drain_timeout_ms);
  server.Drain(std::chrono::milliseconds(c.drain_timeout_ms));
  server.Stop();
  return 0;
}

}  // namespace

void AddIngressCommand(CLI::App& app) {
  auto c = std::make_shared<IngressConfig>();
  CLI::App* cmd = app.add_subcommand("ingress", "serve the HTTP API, WebSockets and the web client");
  AddCommonOptions(cmd, &c->common);
  cmd->add_option("--host", c->host, "listen address")->envname("CHATPIPE_HOST")->capture_default_str();
  cmd->add_option("--port", c->port, "listen port (0: any free port, logged)")->envname("CHATPIPE_HTTP_PORT")->capture_default_str();
  cmd->add_option("--threads", c->threads, "event loops")->envname("CHATPIPE_THREADS")->capture_default_str();
  cmd->add_option("--processes", c->processes,
                  "processes serving --port, forked after the word lists and the secret are loaded, so they share "
                  "them (each holds its own connections, up to the open-files limit, with --threads loops); "
                  "one that ends unasked is started again. Needs a --port other than 0; with --instance, "
                  "process i takes instance + i, and with --metrics-port P > 0, port P + i")
      ->envname("CHATPIPE_PROCESSES")->check(CLI::Range(1, 1024))->capture_default_str();
  cmd->add_option("--db-threads", c->db_threads, "PostgreSQL connections (and threads)")->envname("CHATPIPE_DB_THREADS")->capture_default_str();
  cmd->add_option("--web-root", c->web_root, "directory of the built browser client")->envname("CHATPIPE_WEB_ROOT");
  AddSecurityOptions(cmd, c.get());
  cmd->add_option("--instance", c->instance, "message id instance number 0-1023 (default: the next of PostgreSQL's sequence ingress_instance, mod 1024)")
      ->envname("CHATPIPE_INSTANCE");
  cmd->add_option("--kafka-timeout-ms", c->kafka_timeout_ms, "a send Kafka has not confirmed by then gets an error")
      ->envname("CHATPIPE_KAFKA_TIMEOUT_MS")->capture_default_str();
  cmd->add_option("--drain-timeout-ms", c->drain_timeout_ms,
                  "on SIGTERM/SIGINT: stop accepting, finish the requests and sends in flight, close WebSockets "
                  "with 1012, then exit; past this deadline it exits anyway")
      ->envname("CHATPIPE_DRAIN_TIMEOUT_MS")->check(CLI::Range(0, 600000))->capture_default_str();
  cmd->add_option("--kafka-linger-ms", c->kafka_linger_ms,
                  "how long the producer gathers messages into one request: more is fewer, larger requests "
                  "(less CPU in ingress and Kafka) for that much more latency per message")
      ->envname("CHATPIPE_KAFKA_LINGER_MS")->capture_default_str();
  cmd->add_option("--kafka-prompt-below", c->kafka_prompt_below,
                  "messages a second (over about a second) below which a message goes to Kafka at once, "
                  "without the linger, until 1.25 times that: a producer that sends little has little to "
                  "batch; 0: always linger")
      ->envname("CHATPIPE_KAFKA_PROMPT_BELOW")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--tag-data", c->tag_data, "the tagger's word lists: every message is tagged before Kafka (default: the source tree's)")
      ->envname("CHATPIPE_TAG_DATA");
  cmd->add_option("--max-mentions", c->max_mentions,
                  "distinct users (@name) one message may mention; a message naming more is refused (too_many_mentions)")
      ->envname("CHATPIPE_MAX_MENTIONS")->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("--room-access-cache", c->room_access_cache,
                  "rooms, and apart memberships of private rooms, each event loop remembers (a miss asks PostgreSQL)")
      ->envname("CHATPIPE_ROOM_ACCESS_CACHE")->check(CLI::Range(1, 100000000))->capture_default_str();
  cmd->add_option("--max-output", c->max_output_bytes, "bytes a WebSocket reader may fall behind before it is dropped")
      ->envname("CHATPIPE_MAX_OUTPUT")->capture_default_str();
  AddConnectionLimitOptions(cmd, &c->connections);
  cmd->add_flag("--short-circuit", c->short_circuit,
                "benchmark floor only: ack and fan out messages in this process, skipping Kafka, the workers "
                "and Redis; nothing is stored (bench/run --server chatpipe-floor)")
      ->envname("CHATPIPE_SHORT_CIRCUIT");
  AddRateLimitOptions(cmd, &c->limits);
  AddMediaOptions(cmd, &c->media);
  AddBoardOptions(cmd, &c->board);
  cmd->callback([c] {
    ApplyLogLevel(c->common);
    // The secret itself is never a flag: a command line shows in ps.
    if (const char* secret = std::getenv("CHATPIPE_TOKEN_SECRET"); secret && c->token_secret_file.empty())
      c->token_secret = secret;
    if (c->processes > 1 && c->port == 0) {
      spdlog::error("ingress: --processes {} share one port: give a --port other than 0", c->processes);
      throw CLI::RuntimeError(2);
    }
    const std::atomic<bool>& stop = StopRequested();
    IngressServer server(*c);
    if (Status s = server.Load(); !s.ok()) {
      spdlog::error("ingress: {}", s.ToString());
      throw CLI::RuntimeError(1);
    }
    int code = 0;
    if (c->processes == 1) {
      code = Serve(server, *c, [] {});
    } else {
      spdlog::info("ingress: {} processes on port {}", c->processes, c->port);
      code = ProcessGroup::Run(c->processes, [&](int index, const std::function<void()>& started) {
        server.BecomeProcess(index);
        return Serve(server, *c, started);
      }, stop);
    }
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace chatpipe
