// IngressServer: builds the shared services (Kafka producer, database pool, static files), starts one
// Loop per thread on the same port, and stops them in order: listeners first, then the loops, then a
// producer flush so that nothing acknowledged is left behind. It runs the readiness checks
// (ingress/health.h). With --metrics-port, /livez, /readyz, /healthz and /metrics are also served on a
// side address (StatusServer), and /metrics only there.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "common/status.h"
#include "common/status_server.h"
#include "ingress/loop.h"
#include "ingress/services.h"

namespace chatpipe {

class IngressServer {
 public:
  explicit IngressServer(IngressConfig config);
  ~IngressServer();
  // Reads what needs no thread: the token secret, the tagger's word lists, the web client's files.
  // A process may fork after it (--processes, common/process_group.h): its children share those pages.
  // Start() calls it when it was not called.
  Status Load();
  // In the index-th process of --processes: its own --instance (plus index) and --metrics-port (plus
  // index, when one is set), so that the processes' ids and side listeners do not collide.
  void BecomeProcess(int index);
  Status Start();
  // The graceful half of a stop (SIGTERM): sets Services::draining, has every loop close its listener
  // and drain (Loop::Drain), and waits until all have drained or `timeout` has passed; false then, with
  // what was cut logged. Stop() follows either way.
  bool Drain(std::chrono::milliseconds timeout);
  void Stop();
  int port() const { return port_; }
  int metrics_port() const { return metrics_ ? metrics_->port() : port_; }  // where /metrics is served
  const std::string& instance_id() const { return services_->instance_id; }
  size_t upload_bytes_claimed() const { return services_->uploads.in_use(); }  // UploadBudget's claims

 private:
  IngressConfig config_;
  bool loaded_ = false;
  std::unique_ptr<Tagger> tagger_;     // from Load() until Start() hands it to services_
  std::unique_ptr<StaticFiles> web_;   // the same
  std::unique_ptr<Services> services_;
  std::vector<std::unique_ptr<Loop>> loops_;
  int port_ = 0;
  std::unique_ptr<StatusServer> metrics_;  // only with --metrics-port
};

}  // namespace chatpipe
