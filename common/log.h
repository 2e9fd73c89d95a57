// Log lines: one JSON object per line for log collectors, or readable text for a terminal, on stderr.
//
// InstallLogger (called once from ApplyLogLevel, common/config.h) puts one sink with one LogFormatter
// on spdlog's default logger; every spdlog call then goes through it. A JSON line carries `time`
// (RFC 3339 UTC, milliseconds), `level`, `process` (the subcommand), `instance`, `event` (the message)
// and, for lines written with LogEvent, the ids the line is about (`room`, `group`, `offset`...).
// Any text is valid JSON: control characters are escaped, invalid UTF-8 becomes U+FFFD.
// Secrets never reach a log: redact them at the source (common/redact.h).
#pragma once

#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

namespace chatpipe {

enum class LogFormat { kJson, kText };

// One field of a log line: a string, or an integer (a number in JSON).
struct LogField {
  template <typename T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
  LogField(std::string_view k, T v) : key(k), value(std::to_string(v)), number(true) {}
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  std::string_view key;
  std::string value;
  bool number = false;
};
using LogFields = std::initializer_list<LogField>;

// Renders spdlog's messages as JSON or text, with the fields of the LogEvent being logged on this thread.
class LogFormatter : public spdlog::formatter {
 public:
  LogFormatter(LogFormat format, std::string process, std::string instance);
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  LogFormat format_;
  std::string process_, instance_;
};

// "auto" is JSON unless stderr is a terminal; an unknown name is an error (false).
bool ParseLogFormat(std::string_view name, LogFormat* format);
// Replaces the default logger with one writing to stderr through a LogFormatter.
void InstallLogger(LogFormat format, const std::string& process, const std::string& instance);
// Once a process knows its instance id (ingress takes its number from PostgreSQL): later lines carry it.
// Does nothing before InstallLogger (ingress in a test's process keeps the test's logger).
void SetLogInstance(const std::string& instance);
// The instance for processes that have no id of their own: host-pid.
std::string DefaultLogInstance();
// `event` (a short snake_case name) with the ids it is about: JSON fields, or `key=value` in text.
void LogEvent(spdlog::level::level_enum level, std::string_view event, LogFields fields);

}  // namespace chatpipe
