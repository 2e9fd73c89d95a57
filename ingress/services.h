// What every ingress loop of a process shares: settings, the Kafka producer, the database, password
// and media pools, the object store, the token signer, the message id generator, the connection count and the tagger. All of them
// are thread-safe; nothing else is shared between loops. Owned by IngressServer and outliving every loop.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "analysis/tagger.h"
#include "common/board.h"
#include "common/config.h"
#include "common/health_monitor.h"
#include "common/message_id.h"
#include "common/token.h"
#include "common/work_pool.h"
#include "ingress/client_address.h"
#include "ingress/connection_counter.h"
#include "ingress/connection_limits.h"
#include "ingress/media_api.h"
#include "ingress/rate_limits.h"
#include "ingress/short_circuit.h"
#include "ingress/static_files.h"
#include "ingress/upload_budget.h"
#include "queue/kafka.h"
#include "storage/db_pool.h"
#include "storage/object_store.h"

namespace chatpipe {

struct IngressConfig {
  CommonConfig common;
  std::string host = "0.0.0.0";
  int port = 8080;                   // 0: any free port (logged; tests use it)
  int threads = 2;                   // event loops, each with its own SO_REUSEPORT listener
  int processes = 1;                 // processes forked after loading (ProcessGroup), each with `threads` loops
  int db_threads = 4;
  std::string web_root;              // static files of the browser client; empty: none
  std::string token_secret;          // shared by every ingress of a deployment, >= kMinTokenSecretBytes
  std::string token_secret_file;     // read into token_secret at start, when set
  int token_ttl_s = 24 * 3600;       // a token's lifetime; the client renews it before then
  std::vector<std::string> allowed_origins;  // WebSocket Origins allowed besides the served one
  std::string trusted_proxies;       // CIDR ranges whose X-Forwarded-For names the client (client_address.h)
  std::string metrics_host = "127.0.0.1";
  int metrics_port = -1;             // -1: /metrics on the main port; else only there (0: any free port)
  std::string metrics_allow = "127.0.0.0/8,::1";  // clients served /metrics on the main port (CIDR list)
  int instance = -1;                 // message id instance number (0-1023); -1: the next of PostgreSQL's sequence (ingress/health.h)
  size_t max_output_bytes = 4 << 20; // a WebSocket reader further behind than this is disconnected
  int replay_limit = 1000;           // most messages a join with "after" replays
  int kafka_timeout_ms = 10000;      // a send not confirmed by Kafka within this fails (never a false ack)
  int drain_timeout_ms = 10000;      // SIGTERM: how long the drain may take before the process exits anyway
  int kafka_linger_ms = 5;           // producer batching: latency added to every message, for fewer requests
  double kafka_prompt_below = KafkaProducer::kPromptBelow;  // msg/s below which no linger (queue/kafka.h)
  std::string tag_data;              // the tagger's word lists; empty: the default
  size_t max_mentions = 20;          // distinct @names a message may hold; more: refused, too_many_mentions
  size_t room_access_cache = 100000; // rooms, and apart (room, user) memberships, one loop's RoomAccess keeps
  bool short_circuit = false;        // benchmark floor: skip Kafka, workers and Redis (ShortCircuit)
  RateLimitConfig limits;            // rate limits and the password pool (rate_limits.h)
  ConnectionLimits connections;      // timeouts and counts of client connections
  MediaConfig media;                 // uploads, objects and speech (media_api.h)
  BoardConfig board;                 // the pixel board (common/board.h)
};

// This ingress among all: the host's name (a pod's, in Kubernetes) and the pid, and a count for a
// second ingress in one process (tests run several): presence keys tell the ingress loops apart by it.
inline std::string InstanceId() {
  static std::atomic<int> servers{0};
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  const int n = ++servers;
  return std::string(host) + "-" + std::to_string(::getpid()) + (n > 1 ? "." + std::to_string(n) : "");
}

struct Services {
  explicit Services(const IngressConfig& c)
      : config(c), signer(c.token_secret), instance_id(InstanceId()),
        connections(c.connections.EffectiveMaxConnections(), c.connections.max_connections_per_address),
        uploads(c.media.upload_memory, c.media.max_upload_bytes) {
    std::string error;
    TrustedProxies::Parse(c.trusted_proxies, &proxies, &error);  // IngressServer::Load checked both
    AddressRanges::Parse(c.metrics_allow, &metrics_readers, &error);
  }
  // A new message id; 503 `unavailable` while the instance number is not taken yet (PostgreSQL was
  // away at start: the health monitor takes it once PostgreSQL answers).
  Result<uint64_t> NextId() {
    if (!ids.HasInstance())
      return Status::Unavailable("unavailable", "this ingress is starting (no message id instance yet); try again");
    return ids.Next();
  }

  IngressConfig config;
  TokenSigner signer;
  // Its instance number is --instance, or taken from PostgreSQL (TakeInstanceNumber, ingress/health.h).
  MessageIdGenerator ids;
  std::string instance_id;           // sent as X-Instance-Id: host name and pid
  TrustedProxies proxies;            // --trusted-proxies
  AddressRanges metrics_readers;     // --metrics-allow: clients /metrics on the main port answers
  ConnectionCounter connections;     // every loop's client connections, against the limits
  UploadBudget uploads;              // upload bodies held, against --upload-memory
  std::unique_ptr<HealthMonitor> health;  // Kafka's and PostgreSQL's readiness checks (ingress/health.h)
  std::atomic<int> redis_links_up{0};     // the loops' Redis links connected now: two per loop and shard when all are
  std::unique_ptr<KafkaProducer> producer;
  std::unique_ptr<DbPool> db;
  std::unique_ptr<WorkPool> passwords;  // hashes and checks passwords, so sign-ins never hold the DbPool
  std::unique_ptr<ObjectStore> objects;  // uploads and speech, by content
  std::unique_ptr<WorkPool> media;   // decodes and stores uploads (media_api.h)
  std::unique_ptr<WorkPool> object_reads;  // reads the objects being served
  std::unique_ptr<StaticFiles> web;  // null when no web root is set
  std::unique_ptr<Tagger> tagger;    // tags every message before Kafka
  std::unique_ptr<ShortCircuit> short_circuit;  // only with --short-circuit
  std::atomic<bool> draining{false};  // set on SIGTERM: /readyz answers 503 draining
};

}  // namespace chatpipe
