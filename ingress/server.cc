#include "ingress/server.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/log.h"
#include "common/password.h"
#include "ingress/health.h"

namespace chatpipe {
namespace {

// The secret from --token-secret-file, else as given (CHATPIPE_TOKEN_SECRET), else a random one.
// Never logged; a short one is refused.
Status LoadTokenSecret(IngressConfig* c) {
  if (!c->token_secret_file.empty()) {
    std::ifstream in(c->token_secret_file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) return Status::InvalidArgument("bad_token_secret", "cannot read --token-secret-file " + c->token_secret_file);
    c->token_secret = text.str();
    while (!c->token_secret.empty() && (c->token_secret.back() == '\n' || c->token_secret.back() == '\r'))
      c->token_secret.pop_back();
  }
  if (c->token_secret.empty()) {
    spdlog::warn("ingress: no token secret (CHATPIPE_TOKEN_SECRET or --token-secret-file): using a random one; "
                 "tokens will not work on other instances");
    unsigned char secret[kMinTokenSecretBytes];
    randombytes_buf(secret, sizeof secret);
    c->token_secret.assign(reinterpret_cast<char*>(secret), sizeof secret);
  }
  if (c->token_secret.size() < kMinTokenSecretBytes)
    return Status::InvalidArgument("bad_token_secret", "the token secret must be at least " +
                                                           std::to_string(kMinTokenSecretBytes) + " bytes, it has " +
                                                           std::to_string(c->token_secret.size()));
  return Status::Ok();
}

}  // namespace

IngressServer::IngressServer(IngressConfig config) : config_(std::move(config)) {}

IngressServer::~IngressServer() { Stop(); }

Status IngressServer::Load() {
  if (loaded_) return Status::Ok();
  // Output goes out with writev (evbuffer_write), which takes no MSG_NOSIGNAL: a write to a peer that
  // has gone must fail with EPIPE, not end whatever process this server runs in (a test's, too).
  std::signal(SIGPIPE, SIG_IGN);
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialise");
  if (Status s = LoadTokenSecret(&config_); !s.ok()) return s;
  std::string proxies_error;
  if (TrustedProxies proxies; !TrustedProxies::Parse(config_.trusted_proxies, &proxies, &proxies_error))
    return Status::InvalidArgument("bad_trusted_proxies", "--trusted-proxies: " + proxies_error);
  if (AddressRanges readers; !AddressRanges::Parse(config_.metrics_allow, &readers, &proxies_error))
    return Status::InvalidArgument("bad_metrics_allow", "--metrics-allow: " + proxies_error);
  auto tagger = Tagger::Load(config_.tag_data.empty() ? DefaultTagDataDir() : config_.tag_data);
  if (!tagger.ok()) return tagger.status();
  tagger_ = std::move(*tagger);
  if (!config_.web_root.empty()) {
    auto web = StaticFiles::Load(config_.web_root);
    if (!web.ok()) spdlog::warn("ingress: {}; the browser client is not served", web.status().detail());
    else web_ = std::move(*web);
  }
  loaded_ = true;
  return Status::Ok();
}

void IngressServer::BecomeProcess(int index) {
  if (config_.instance >= 0) config_.instance = (config_.instance + index) % 1024;
  if (config_.metrics_port > 0) config_.metrics_port += index;
}

Status IngressServer::Start() {
  if (Status s = Load(); !s.ok()) return s;
  services_ = std::make_unique<Services>(config_);
  // Message ids embed an instance number: set by hand, or taken from PostgreSQL (StartHealthChecks).
  if (config_.instance >= 0) services_->ids.SetInstance(static_cast<uint32_t>(config_.instance));
  SetLogInstance(services_->instance_id);
  auto producer = KafkaProducer::Create(
      config_.common.kafka_brokers, {{"message.timeout.ms", std::to_string(config_.kafka_timeout_ms)},
                                     {"linger.ms", std::to_string(config_.kafka_linger_ms)}},
      config_.kafka_prompt_below);
  if (!producer.ok()) return producer.status();
  services_->producer = std::move(*producer);
  services_->tagger = std::move(tagger_);
  services_->db = std::make_unique<DbPool>(config_.common.pg_conninfo, config_.db_threads);
  services_->passwords =
      std::make_unique<WorkPool>(config_.limits.password_threads, static_cast<size_t>(config_.limits.password_queue));
  // The dummy hash unknown names are checked against is made on first use: make it now, so that the
  // first unknown name does not take longer than a wrong password.
  services_->passwords->Submit([] { VerifyPassword(std::nullopt, ""); });
  auto objects = OpenObjectStore(config_.media.objects);
  if (!objects.ok()) return objects.status();
  services_->objects = std::move(*objects);
  spdlog::info("ingress: objects in {}", services_->objects->Describe());
  const auto queue = static_cast<size_t>(config_.media.pool_queue);
  services_->media = std::make_unique<WorkPool>(config_.media.media_threads, queue);
  services_->object_reads = std::make_unique<WorkPool>(config_.media.object_threads, queue);
  services_->web = std::move(web_);
  port_ = config_.port;
  for (int i = 0; i < config_.threads; ++i) loops_.push_back(std::make_unique<Loop>(i, services_.get()));
  if (config_.short_circuit) {
    spdlog::warn("ingress: --short-circuit: messages skip Kafka, the workers and Redis; nothing is stored");
    services_->short_circuit = std::make_unique<ShortCircuit>();
    for (auto& loop : loops_) services_->short_circuit->AddLoop(loop.get());
  }
  StartHealthChecks(services_.get());
  for (auto& loop : loops_)
    if (Status s = loop->Start(config_.host, &port_); !s.ok()) return s;
  if (config_.metrics_port >= 0) {
    Services* services = services_.get();
    auto metrics = StatusServer::Start(config_.metrics_host, config_.metrics_port, services->instance_id,
                                       [services] { return IngressReadiness(*services); });
    if (!metrics.ok()) return metrics.status();
    metrics_ = std::move(*metrics);
    spdlog::info("ingress: /livez, /readyz, /healthz and /metrics on http://{}:{}", config_.metrics_host,
                 metrics_->port());
  }
  spdlog::info("ingress {}: listening on {}:{} with {} loops", services_->instance_id, config_.host, port_,
               config_.threads);
  return Status::Ok();
}

bool IngressServer::Drain(std::chrono::milliseconds timeout) {
  if (!services_) return true;
  services_->draining = true;
  for (auto& loop : loops_) loop->Drain();
  // This thread only waits (the loops do the work); it checks every few milliseconds.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto all_drained = [this] {
    for (auto& loop : loops_)
      if (!loop->drained()) return false;
    return true;
  };
  while (!all_drained() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (all_drained()) {
    spdlog::info("ingress: drained");
    return true;
  }
  for (auto& loop : loops_) loop->LogUndrained();
  return false;
}

void IngressServer::Stop() {
  // Loops stop first (no new work), but stay allocated until the producer and the database,
  // password and media pools, whose callbacks answer into the loops' TaskQueues, have finished: only then are
  // they freed. The pools themselves outlive the loops: freeing a loop's Redis contexts runs pending
  // callbacks, which may still submit (and hear "busy").
  metrics_.reset();
  if (services_ && services_->health) services_->health->Stop();  // its Kafka check uses the producer
  for (auto& loop : loops_) loop->Stop();
  if (services_ && services_->producer) {
    if (Status s = services_->producer->Flush(std::chrono::seconds(10)); !s.ok())
      spdlog::error("ingress: {}", s.ToString());
    services_->producer.reset();
  }
  if (services_ && services_->db) services_->db->Stop();
  if (services_ && services_->passwords) services_->passwords->Stop();
  if (services_ && services_->media) services_->media->Stop();
  if (services_ && services_->object_reads) services_->object_reads->Stop();
  loops_.clear();
  services_.reset();
}

}  // namespace chatpipe
