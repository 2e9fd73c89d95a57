#include "common/status_server.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common/metrics.h"

namespace chatpipe {
namespace {

void Reply(evhttp_request* req, int code, const char* type, const std::string& body) {
  evbuffer* out = evbuffer_new();
  evbuffer_add(out, body.data(), body.size());
  evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
  evhttp_send_reply(req, code, code == 200 ? "OK" : "Service Unavailable", out);
  evbuffer_free(out);
}

}  // namespace

Result<std::unique_ptr<StatusServer>> StatusServer::Start(const std::string& host, int port, std::string instance,
                                                          std::function<ReadinessAnswer()> readiness) {
  evthread_use_pthreads();
  std::unique_ptr<StatusServer> s(new StatusServer());
  s->instance_ = std::move(instance);
  s->readiness_ = std::move(readiness);
  s->base_ = event_base_new();
  s->http_ = evhttp_new(s->base_);
  evhttp_bound_socket* sock = evhttp_bind_socket_with_handle(s->http_, host.c_str(), static_cast<uint16_t>(port));
  if (!sock) return Status::Internal("cannot listen on " + host + ":" + std::to_string(port));
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  getsockname(evhttp_bound_socket_get_fd(sock), reinterpret_cast<sockaddr*>(&addr), &len);
  s->port_ = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  evhttp_set_gencb(
      s->http_,
      [](evhttp_request* req, void* arg) {
        auto* self = static_cast<StatusServer*>(arg);
        std::string path = evhttp_request_get_uri(req);
        if (path == "/livez") {
          Reply(req, 200, "application/json", LivenessJson(self->instance_));
        } else if (path == "/readyz" || path == "/healthz") {
          ReadinessAnswer answer = self->readiness_();
          Reply(req, answer.ready ? 200 : 503, "application/json", answer.json);
        } else if (path == "/metrics") {
          Reply(req, 200, "text/plain; version=0.0.4", Metrics::Global().Render());
        } else {
          evhttp_send_error(req, 404, "Not Found");
        }
      },
      s.get());
  StatusServer* raw = s.get();
  s->thread_ = std::thread([raw] { event_base_loop(raw->base_, EVLOOP_NO_EXIT_ON_EMPTY); });
  return s;
}

StatusServer::~StatusServer() {
  if (base_) event_base_loopbreak(base_);
  if (thread_.joinable()) thread_.join();
  if (http_) evhttp_free(http_);
  if (base_) event_base_free(base_);
}

}  // namespace chatpipe
