// StatusServer: /livez, /readyz, /healthz and /metrics over HTTP on a side thread, for processes
// without an HTTP loop of their own (workers, and the ingress's --metrics-port). Owns its thread and
// event_base; stopping is done by the destructor.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/readiness.h"
#include "common/status.h"

struct event_base;
struct evhttp;

namespace chatpipe {

class StatusServer {
 public:
  // /livez answers 200 with `instance` as long as this thread runs; /readyz and /healthz answer
  // `readiness()`, asked on every request on the server thread: it must be thread-safe and quick
  // (it reads the HealthMonitor's last results).
  static Result<std::unique_ptr<StatusServer>> Start(const std::string& host, int port, std::string instance,
                                                     std::function<ReadinessAnswer()> readiness);
  ~StatusServer();
  int port() const { return port_; }

 private:
  StatusServer() = default;
  event_base* base_ = nullptr;
  evhttp* http_ = nullptr;
  int port_ = 0;
  std::string instance_;
  std::function<ReadinessAnswer()> readiness_;
  std::thread thread_;
};

}  // namespace chatpipe
