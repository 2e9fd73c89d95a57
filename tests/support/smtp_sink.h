// SmtpSink: ops/smtp-sink run for a test, the one local mail server every test that sends e-mail uses
// (ops/up runs the same script).
//
// It listens on a free port and keeps each message it accepts as a file in mail_dir(); Mails() reads
// them back, decoded. The caller gives the directory and keeps it; the sink process is stopped when
// the SmtpSink is destroyed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "tests/support/child_process.h"

namespace chatpipe::test {

// One e-mail the sink received.
struct SinkMail {
  std::string file;
  int64_t received_ms = 0;  // X-Sink-Received-At
  std::string rcpt;         // X-Sink-Rcpt-To
  std::string message_id;   // without the angle brackets
  std::string subject;
  std::string text;  // the decoded text/plain part
  std::string html;  // the decoded text/html part
};

class SmtpSink {
 public:
  // Starts the sink with its mail in `dir`/mail and its log in `dir`/sink.log; returns once it
  // listens. Recipients matching the regex `reject` get a 550 at RCPT, those matching `defer` a 451;
  // messages to those matching `refuse_content` a 554 at the end of DATA.
  static Result<std::unique_ptr<SmtpSink>> Start(const std::string& dir, const std::string& reject = "",
                                                 const std::string& defer = "", const std::string& refuse_content = "");

  int port() const { return port_; }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  const std::string& mail_dir() const { return mail_dir_; }
  std::vector<SinkMail> Mails() const;  // sorted by receive time
  std::string Log() const;              // what the sink wrote: for the message of a failed test

 private:
  SmtpSink() = default;
  std::unique_ptr<ChildProcess> process_;
  std::string mail_dir_, log_;
  int port_ = 0;
};

}  // namespace chatpipe::test
