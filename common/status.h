// Status: the outcome of an operation that can fail, passed across module lines instead of exceptions.
//
// A failed Status carries a stable machine-readable `code` (e.g. "bad_json", "not_found"), a human
// `reason`, and the HTTP status a client should see for it. Success is Status::Ok(). Cheap to copy
// when ok (no allocation); owns its strings otherwise.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>

namespace chatpipe {

class Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(int http_status, std::string code, std::string reason) {
    return Status(http_status, std::move(code), std::move(reason));
  }
  // Common refusals, named after the HTTP status they map to.
  static Status BadRequest(std::string code, std::string reason) { return Error(400, std::move(code), std::move(reason)); }
  static Status Unauthorized(std::string reason) { return Error(401, "unauthorized", std::move(reason)); }
  static Status Forbidden(std::string reason) { return Error(403, "forbidden", std::move(reason)); }
  static Status NotFound(std::string code, std::string reason) { return Error(404, std::move(code), std::move(reason)); }
  static Status Conflict(std::string code, std::string reason) { return Error(409, std::move(code), std::move(reason)); }
  static Status TooLarge(std::string reason) { return Error(413, "too_large", std::move(reason)); }
  static Status Unavailable(std::string code, std::string reason) { return Error(503, std::move(code), std::move(reason)); }
  static Status Internal(std::string reason) { return Error(500, "internal", std::move(reason)); }

  bool ok() const { return http_status_ == 0; }
  int http_status() const { return ok() ? 200 : http_status_; }
  const std::string& code() const { return code_; }
  const std::string& reason() const { return reason_; }
  std::string ToString() const { return ok() ? "ok" : code_ + ": " + reason_; }

 private:
  Status(int http_status, std::string code, std::string reason)
      : http_status_(http_status), code_(std::move(code)), reason_(std::move(reason)) {}
  int http_status_ = 0;
  std::string code_;
  std::string reason_;
};

// The first failed Status of several checks made together, or ok.
inline Status FirstError(std::initializer_list<Status> all) {
  for (const Status& s : all)
    if (!s.ok()) return s;
  return Status::Ok();
}

// Result<T>: a value or the Status explaining why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}
  Result(Status status) : status_(std::move(status)) {}
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() { return value_; }
  const T& value() const { return value_; }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }
  T& operator*() { return value_; }
  const T& operator*() const { return value_; }
  T value_or(T fallback) const { return ok() ? value_ : std::move(fallback); }

 private:
  T value_{};
  Status status_;
};

}  // namespace chatpipe
