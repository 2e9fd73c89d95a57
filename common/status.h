// Status: the outcome of an operation that can fail, passed across module lines instead of exceptions.
//
// A failed Status carries
//   - a StatusCode: what kind of failure it is, which is what callers branch on (retry, refuse, give up);
//   - a name: a stable snake_case word for this particular failure ("bad_field", "room_not_found"),
//     which logs show and ingress passes to clients as their error's `code`;
//   - a detail: a human sentence;
//   - the SQLSTATE, when PostgreSQL gave one.
// It knows nothing of HTTP: ingress alone turns a Status into a status line and a JSON body
// (ingress/api_error.h). Success is Status::Ok(), cheap to copy (no allocation).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace chatpipe {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,    // the input is malformed or out of range; repeating it fails again
  kUnauthenticated,    // no valid credentials
  kPermissionDenied,   // valid credentials, not allowed
  kNotFound,
  kAlreadyExists,
  kTooLarge,           // over a size limit
  kRefused,            // well-formed, refused by a policy (a room that blocks profanity)
  kResourceExhausted,  // a rate or quota is used up: later, the same request may pass
  kDeadlineExceeded,   // no answer in time
  kUnavailable,        // a dependency (PostgreSQL, Redis, Kafka, a peer) is away or busy: retry
  kUnimplemented,
  kInternal,           // a bug, or a failure nobody can act on
};

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string name, std::string detail)
      : code_(code), name_(std::move(name)), detail_(std::move(detail)) {}
  static Status Ok() { return Status(); }

  static Status InvalidArgument(std::string name, std::string detail) {
    return Status(StatusCode::kInvalidArgument, std::move(name), std::move(detail));
  }
  static Status Unauthenticated(std::string detail) {
    return Status(StatusCode::kUnauthenticated, "unauthorized", std::move(detail));
  }
  static Status PermissionDenied(std::string detail) {
    return Status(StatusCode::kPermissionDenied, "forbidden", std::move(detail));
  }
  static Status NotFound(std::string name, std::string detail) {
    return Status(StatusCode::kNotFound, std::move(name), std::move(detail));
  }
  static Status AlreadyExists(std::string name, std::string detail) {
    return Status(StatusCode::kAlreadyExists, std::move(name), std::move(detail));
  }
  static Status TooLarge(std::string detail) { return TooLarge("too_large", std::move(detail)); }
  static Status TooLarge(std::string name, std::string detail) {
    return Status(StatusCode::kTooLarge, std::move(name), std::move(detail));
  }
  static Status Refused(std::string name, std::string detail) {
    return Status(StatusCode::kRefused, std::move(name), std::move(detail));
  }
  static Status ResourceExhausted(std::string name, std::string detail) {
    return Status(StatusCode::kResourceExhausted, std::move(name), std::move(detail));
  }
  static Status DeadlineExceeded(std::string name, std::string detail) {
    return Status(StatusCode::kDeadlineExceeded, std::move(name), std::move(detail));
  }
  static Status Unavailable(std::string name, std::string detail) {
    return Status(StatusCode::kUnavailable, std::move(name), std::move(detail));
  }
  static Status Unimplemented(std::string name, std::string detail) {
    return Status(StatusCode::kUnimplemented, std::move(name), std::move(detail));
  }
  static Status Internal(std::string detail) { return Internal("internal", std::move(detail)); }
  static Status Internal(std::string name, std::string detail) {
    return Status(StatusCode::kInternal, std::move(name), std::move(detail));
  }
  // A statement PostgreSQL refused, with its five-character SQLSTATE ("23505": unique violation).
  static Status Postgres(std::string_view sqlstate, std::string detail);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& name() const { return name_; }
  const std::string& detail() const { return detail_; }
  // The SQLSTATE PostgreSQL gave, or "".
  std::string_view sqlstate() const { return std::string_view(sqlstate_, sqlstate_[0] ? 5 : 0); }
  // "name: detail", with the SQLSTATE when there is one: for logs and test failures.
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string name_;
  std::string detail_;
  char sqlstate_[6] = {};
};

// Whether trying the same thing again later may succeed: a dependency was away (kUnavailable), or
// PostgreSQL aborted the transaction for a deadlock or a serialization failure (SQLSTATE class 40).
// The one retry classification of every worker.
bool IsRetriable(const Status& s);

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
