// StatusServer: /healthz and /metrics over HTTP on a side thread, for processes without an HTTP loop
// of their own (workers, replay). Owns its thread and event_base; stopping is done by the destructor.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"

struct event_base;
struct evhttp;

namespace chatpipe {

class StatusServer {
 public:
  // `healthy` is asked on every /healthz; it runs on the server thread and must be thread-safe.
  static Result<std::unique_ptr<StatusServer>> Start(const std::string& host, int port, std::function<bool()> healthy);
  ~StatusServer();
  int port() const { return port_; }

 private:
  StatusServer() = default;
  event_base* base_ = nullptr;
  evhttp* http_ = nullptr;
  int port_ = 0;
  std::function<bool()> healthy_;
  std::thread thread_;
};

}  // namespace chatpipe
