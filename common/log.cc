#include "common/log.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <unistd.h>

#include <chrono>

#include "common/rfc3339.h"
#include "common/utf8.h"

namespace chatpipe {
namespace {

// The fields of the LogEvent on this thread, for the formatter: the default logger is synchronous, so
// the formatter runs on the thread that logs, inside the LogEvent call.
thread_local LogFields* current_fields = nullptr;

// What InstallLogger was given, for SetLogInstance; nothing installed (a test process) leaves spdlog's own.
bool installed = false;
LogFormat installed_format = LogFormat::kText;
std::string installed_process;

void AppendText(spdlog::memory_buf_t& dest, std::string_view s) { dest.append(s.data(), s.data() + s.size()); }

}  // namespace

LogFormatter::LogFormatter(LogFormat format, std::string process, std::string instance)
    : format_(format), process_(std::move(process)), instance_(std::move(instance)) {}

std::unique_ptr<spdlog::formatter> LogFormatter::clone() const {
  return std::make_unique<LogFormatter>(format_, process_, instance_);
}

void LogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
  const std::string time = FormatRfc3339(ms);
  const auto level = spdlog::level::to_string_view(msg.level);
  const std::string event = ReplaceInvalidUtf8(std::string_view(msg.payload.data(), msg.payload.size()));
  if (format_ == LogFormat::kText) {
    AppendText(dest, time);
    AppendText(dest, " ");
    AppendText(dest, std::string_view(level.data(), level.size()));
    AppendText(dest, " ");
    AppendText(dest, event);
    if (current_fields)
      for (const LogField& f : *current_fields) {
        AppendText(dest, " ");
        AppendText(dest, f.key);
        AppendText(dest, "=");
        AppendText(dest, ReplaceInvalidUtf8(f.value));
      }
    AppendText(dest, "\n");
    return;
  }
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> w(out);
  auto key = [&](std::string_view k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); };
  auto str = [&](std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
  w.StartObject();
  key("time"), str(time);
  key("level"), str(std::string_view(level.data(), level.size()));
  key("process"), str(process_);
  key("instance"), str(instance_);
  key("event"), str(event);
  if (current_fields)
    for (const LogField& f : *current_fields) {
      key(f.key);
      if (f.number)
        w.RawValue(f.value.data(), f.value.size(), rapidjson::kNumberType);
      else
        str(ReplaceInvalidUtf8(f.value));
    }
  w.EndObject();
  AppendText(dest, std::string_view(out.GetString(), out.GetSize()));
  AppendText(dest, "\n");
}

bool ParseLogFormat(std::string_view name, LogFormat* format) {
  if (name == "auto")
    *format = isatty(STDERR_FILENO) ? LogFormat::kText : LogFormat::kJson;
  else if (name == "json")
    *format = LogFormat::kJson;
  else if (name == "text")
    *format = LogFormat::kText;
  else
    return false;
  return true;
}

void InstallLogger(LogFormat format, const std::string& process, const std::string& instance) {
  auto logger = std::make_shared<spdlog::logger>("", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_formatter(std::make_unique<LogFormatter>(format, process, instance));
  logger->set_level(spdlog::default_logger()->level());
  spdlog::set_default_logger(std::move(logger));
  installed = true;
  installed_format = format;
  installed_process = process;
}

void SetLogInstance(const std::string& instance) {
  if (!installed) return;
  // The sink swaps its formatter under its own lock, so threads logging meanwhile are safe.
  spdlog::default_logger()->set_formatter(std::make_unique<LogFormatter>(installed_format, installed_process, instance));
}

std::string DefaultLogInstance() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host) + "-" + std::to_string(getpid());
}

void LogEvent(spdlog::level::level_enum level, std::string_view event, LogFields fields) {
  if (!spdlog::should_log(level)) return;
  current_fields = &fields;
  spdlog::log(level, "{}", event);
  current_fields = nullptr;
}

}  // namespace chatpipe
