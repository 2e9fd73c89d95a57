// MailTestEnv: a WorkerTestEnv for the mailer's tests, plus the SMTP sink and `chatpipe worker mail`
// children.
//
// It owns a temporary directory (the sink's mail and every child's log), the sink, and the mailers it
// started; destroying it stops them, removes the directory and drops the database. The rows and
// events it writes are the mailer's input: users with addresses, mention rows, chat.notify events.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "storage/pg.h"
#include "tests/support/child_process.h"
#include "tests/support/services.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/topic_reader.h"
#include "tests/support/worker_env.h"
#include "workers/mail/notify_event.h"

namespace chatpipe::test {

class MailTestEnv {
 public:
  // Fails (with the reason in *error) when the services are not in the environment or unreachable.
  static std::unique_ptr<MailTestEnv> Create(std::string* error);
  ~MailTestEnv();

  const CommonConfig& config() const { return env_->config(); }
  PgConn& pg() { return env_->pg(); }

  // Starts ops/smtp-sink; recipients matching `reject` get a 550, those matching `defer` a 451.
  Status StartSink(const std::string& reject = "", const std::string& defer = "", const std::string& refuse_content = "");
  std::vector<SinkMail> SinkMails() const { return sink_ ? sink_->Mails() : std::vector<SinkMail>(); }

  // Starts `chatpipe worker mail` against this env's services, sink and namespace, plus `flags`.
  Result<ChildProcess*> StartMailer(const std::vector<std::string>& flags);

  // Rows for the mailer to read; -1 when the insert failed.
  int64_t AddUser(const std::string& name, const std::string& email, bool notifications = true);
  int64_t AddMention(int64_t user_id, int64_t room_id, bool read = false);
  // The chat.notify event of a mention row (message ids made up), and producing it to the topic.
  mail::Mention MentionEvent(int64_t mention_id, int64_t user_id, const std::string& text) const;
  Status Produce(const mail::Mention& m);
  // Dead letters (payloads) read from this env's dead-letter topic until `want` arrived or `limit` passed.
  std::vector<std::string> DeadLetters(size_t want, std::chrono::milliseconds limit);

  // The first value `sql` returns: -1 / "" when there is none ("error: ..." for a failed query).
  int64_t QueryInt(const std::string& sql);
  std::string QueryText(const std::string& sql);
  // Everything the children wrote: for the message of a failed test.
  std::string Logs() const;

 private:
  MailTestEnv() = default;
  const std::string& dir() const { return dir_->path(); }
  std::unique_ptr<WorkerTestEnv> env_;  // first: destroyed (its database dropped) last
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<SmtpSink> sink_;
  std::vector<std::unique_ptr<ChildProcess>> mailers_;
  std::unique_ptr<TopicReader> dead_letters_;
};

}  // namespace chatpipe::test
