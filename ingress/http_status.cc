#include "ingress/http_status.h"

#include <spdlog/spdlog.h>

#include <string_view>

#include "common/log_throttle.h"
#include "common/steady_clock.h"

namespace chatpipe {
namespace {

struct Refinement {
  std::string_view name;
  int status;
};
constexpr Refinement kHttpRefusals[] = {
    {"method_not_allowed", 405}, {"length_required", 411},        {"upgrade_required", 426},
    {"headers_too_large", 431},  {"version_not_supported", 505},
    // Media (media/image.h): a body that is not the image type it claims, or no type we take.
    {"unsupported_type", 415},   {"type_mismatch", 415},          {"range_not_satisfiable", 416},
};

int ForCode(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kTooLarge: return 413;
    case StatusCode::kRefused: return 422;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kDeadlineExceeded: return 408;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kUnimplemented: return 501;
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

}  // namespace

int HttpStatusFor(const Status& s) {
  for (const Refinement& r : kHttpRefusals)
    if (s.name() == r.name) return r.status;
  return ForCode(s.code());
}

}  // namespace chatpipe

namespace chatpipe {

Status ForClient(const Status& s) {
  if (s.sqlstate().empty() && s.name() != "db_unavailable" && s.name() != "redis_unavailable") return s;
  static LogThrottle throttle(1000);
  if (int64_t held_back = 0; throttle.Due(SteadyMs(), &held_back))
    spdlog::warn("ingress: a client is told only that storage failed: {} ({} more such refusals since the last line)",
                 s.ToString(), held_back);
  if (s.code() == StatusCode::kUnavailable)
    return Status::Unavailable("unavailable", "the server cannot reach its storage right now; try again shortly");
  return Status(s.code(), "db_error", "the database could not carry out this request");
}

}  // namespace chatpipe
