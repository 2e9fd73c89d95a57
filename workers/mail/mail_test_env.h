// Test support for the mailer's tests (not part of chatpipe): the services ops/test exports
// (CHATPIPE_PG, CHATPIPE_REDIS, CHATPIPE_KAFKA), and per test its own database and namespace, migrated
// (test::TestServices, workers/batch/test_env.h), its own ops/smtp-sink in a temporary directory, and `chatpipe worker mail`
// children. Everything a MailTestEnv started is stopped, and its database dropped, when it is destroyed;
// the children also die with the test process if it crashes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "queue/kafka.h"
#include "storage/pg.h"
#include "workers/batch/test_env.h"
#include "workers/mail/notify_event.h"

namespace chatpipe::mail {

// A child process with its output appended to a log file.
class ChildProcess {
 public:
  static Result<std::unique_ptr<ChildProcess>> Spawn(const std::vector<std::string>& argv, const std::string& log);
  ~ChildProcess();  // SIGTERM (and SIGCONT, should it be stopped), up to 15 s to exit, then SIGKILL
  void Signal(int sig);
  // SIGSTOP, then waits up to `limit` until every thread of the child has stopped; false if it did not
  // (or it exited). Signal(SIGCONT) resumes it.
  bool Stop(std::chrono::milliseconds limit);
  // Waits up to `limit` for the exit; the exit code, or -1 (killed by a signal, or still running).
  int Wait(std::chrono::milliseconds limit);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

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

class MailTestEnv {
 public:
  // Fails (with the reason in *error) when the services are not in the environment or unreachable.
  static std::unique_ptr<MailTestEnv> Create(std::string* error);
  ~MailTestEnv();

  const CommonConfig& config() const { return services_->config(); }
  const std::string& dir() const { return dir_; }
  PgConn& pg() { return *pg_; }

  // Starts ops/smtp-sink; recipients matching `reject` get a 550, those matching `defer` a 451.
  Status StartSink(const std::string& reject = "", const std::string& defer = "");
  int sink_port() const { return sink_port_; }
  std::vector<SinkMail> SinkMails() const;  // sorted by receive time

  // Starts `chatpipe worker mail` against this env's services, sink and namespace, plus `flags`.
  Result<ChildProcess*> StartMailer(const std::vector<std::string>& flags);

  // Rows for the mailer to read.
  int64_t AddUser(const std::string& name, const std::string& email, bool notifications = true);
  int64_t AddMention(int64_t user_id, int64_t room_id, bool read = false);
  // The chat.notify event of a mention row (message ids made up), and producing it to the topic.
  Mention MentionEvent(int64_t mention_id, int64_t user_id, const std::string& text) const;
  Status Produce(const Mention& m);
  // Dead letters (payloads) read from this env's dead-letter topic until `want` arrived or `limit` passed.
  std::vector<std::string> DeadLetters(size_t want, std::chrono::milliseconds limit);

  int64_t QueryInt(const std::string& sql);
  std::string QueryText(const std::string& sql);
  // Everything the children wrote: for the message of a failed test.
  std::string Logs() const;

 private:
  MailTestEnv() = default;
  std::unique_ptr<test::TestServices> services_;  // first: destroyed (its database dropped) last
  std::string dir_;
  std::unique_ptr<PgConn> pg_;
  std::unique_ptr<ChildProcess> sink_;
  int sink_port_ = 0;
  std::vector<std::unique_ptr<ChildProcess>> mailers_;
  std::unique_ptr<KafkaProducer> producer_;
  std::unique_ptr<BatchConsumer> dead_letters_;
  int logs_ = 0;
};

// Polls `done` every 20 ms until it holds or `limit` passes; returns its last value.
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit);

}  // namespace chatpipe::mail
