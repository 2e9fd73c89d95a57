#include "tests/support/mail_env.h"

#include <atomic>
#include <fstream>
#include <sstream>

namespace chatpipe::test {
namespace {

std::string MailerLog(const std::string& dir, size_t n) { return dir + "/mailer" + std::to_string(n) + ".log"; }

}  // namespace

std::unique_ptr<MailTestEnv> MailTestEnv::Create(std::string* error) {
  std::unique_ptr<MailTestEnv> env(new MailTestEnv());
  auto worker_env = WorkerTestEnv::Create("mailtest");
  if (!worker_env.ok()) {
    *error = worker_env.status().ToString();
    return nullptr;
  }
  env->env_ = std::move(*worker_env);
  auto dir = TempDir::Create("chatpipe-mail-test");
  if (!dir.ok()) {
    *error = dir.status().ToString();
    return nullptr;
  }
  env->dir_ = std::move(*dir);
  return env;
}

MailTestEnv::~MailTestEnv() {
  // The children first: they use the directory and the database.
  mailers_.clear();
  sink_.reset();
}

Status MailTestEnv::StartSink(const std::string& reject, const std::string& defer, const std::string& refuse_content) {
  auto sink = SmtpSink::Start(dir(), reject, defer, refuse_content);
  if (!sink.ok()) return sink.status();
  sink_ = std::move(*sink);
  return Status::Ok();
}

Result<ChildProcess*> MailTestEnv::StartMailer(const std::vector<std::string>& flags) {
  std::vector<std::string> argv = {CHATPIPE_BINARY, "worker", "mail", "--pg", config().pg_conninfo, "--kafka",
                                   config().kafka_brokers, "--redis", config().redis_addr, "--namespace", config().ns,
                                   "--smtp", sink_ ? sink_->url() : "smtp://127.0.0.1:0", "--mail-from",
                                   "notify@chatpipe.test", "--status-port", "0", "--poll-ms", "50"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  auto child = ChildProcess::Spawn(argv, MailerLog(dir(), mailers_.size() + 1));
  if (!child.ok()) return child.status();
  mailers_.push_back(std::move(*child));
  return mailers_.back().get();
}

int64_t MailTestEnv::AddUser(const std::string& name, const std::string& email, bool notifications) {
  return env_->CreateUser(name, email, notifications).value_or(-1);
}

int64_t MailTestEnv::AddMention(int64_t user_id, int64_t room_id, bool read) {
  static std::atomic<int64_t> message{1000};
  auto r = pg().Exec(
      "INSERT INTO mentions (message_id, room_id, user_id, kind, read_at)"
      " VALUES ($1, $2, $3, 'user', CASE WHEN $4::boolean THEN now() END) RETURNING id",
      {std::to_string(message++), std::to_string(room_id), std::to_string(user_id), read ? "true" : "false"});
  return r.ok() ? r->Int(0, 0) : -1;
}

mail::Mention MailTestEnv::MentionEvent(int64_t mention_id, int64_t user_id, const std::string& text) const {
  mail::Mention m;
  m.mention_id = mention_id;
  m.user_id = user_id;
  m.room_id = 1;
  m.room_name = "general";
  m.message_id = std::to_string(900000000000 + mention_id);
  m.pos = mention_id;
  m.text = text;
  m.message_ts = 1700000000000 + mention_id;
  m.from_id = 999;
  m.from_name = "ana";
  m.ts = m.message_ts + 5;
  return m;
}

Status MailTestEnv::Produce(const mail::Mention& m) {
  return env_->ProduceTo(config().Topic(kNotifyTopic), std::to_string(m.user_id), mail::EncodeMention(m));
}

std::vector<std::string> MailTestEnv::DeadLetters(size_t want, std::chrono::milliseconds limit) {
  std::vector<std::string> out;
  if (!dead_letters_) {
    auto reader = TopicReader::Create(config(), config().Topic(kDeadLetterTopic));
    if (!reader.ok()) return out;
    dead_letters_ = std::move(*reader);
  }
  for (auto& m : dead_letters_->Read(want, limit)) out.push_back(std::move(m.payload));
  return out;
}

int64_t MailTestEnv::QueryInt(const std::string& sql) { return env_->QueryInt(sql).value_or(-1); }

std::string MailTestEnv::QueryText(const std::string& sql) {
  auto r = pg().Exec(sql.c_str());
  if (!r.ok()) return "error: " + r.status().ToString();
  if (r->rows() == 0 || r->IsNull(0, 0)) return "";
  return std::string(r->Text(0, 0));
}

std::string MailTestEnv::Logs() const {
  std::string out;
  for (size_t i = 1; i <= mailers_.size(); ++i) {
    std::ifstream in(MailerLog(dir(), i));
    std::ostringstream text;
    text << in.rdbuf();
    out += "---- mailer" + std::to_string(i) + ".log\n" + text.str();
  }
  if (sink_) out += "---- sink.log\n" + sink_->Log();
  return out;
}

}  // namespace chatpipe::test
