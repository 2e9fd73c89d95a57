#include "workers/mail/mail_test_env.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

namespace chatpipe::mail {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string DecodeBase64(const std::string& in) {
  static const std::string kChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    size_t v = kChars.find(c);
    if (v == std::string::npos) continue;  // line breaks, padding
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

std::string HeaderOf(const std::string& head, const std::string& name) {
  std::string key = "\r\n" + name + ": ";
  std::string h = "\r\n" + head;
  size_t at = h.find(key);
  if (at == std::string::npos) return "";
  size_t start = at + key.size();
  return h.substr(start, h.find("\r\n", start) - start);
}

// The decoded body of the part with this content type (base64, as the mailer writes them).
std::string PartOf(const std::string& msg, const std::string& type) {
  size_t at = msg.find("Content-Type: " + type);
  if (at == std::string::npos) return "";
  size_t body = msg.find("\r\n\r\n", at);
  if (body == std::string::npos) return "";
  body += 4;
  size_t end = msg.find("\r\n--", body);
  return DecodeBase64(msg.substr(body, end == std::string::npos ? std::string::npos : end - body));
}

}  // namespace

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Result<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(const std::vector<std::string>& argv, const std::string& log) {
  // Everything the child needs is made before fork(): after it, only async-signal-safe calls.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return Status::Internal("fork: " + std::string(strerror(errno)));
  if (pid == 0) {
    // Dies with the test, even when the test crashes: no mailer or sink outlives it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int in = open("/dev/null", O_RDONLY);
    if (out < 0 || in < 0) _exit(127);
    dup2(in, 0);
    dup2(out, 1);
    dup2(out, 2);
    execv(args[0], args.data());
    _exit(127);
  }
  std::unique_ptr<ChildProcess> child(new ChildProcess());
  child->pid_ = pid;
  return child;
}

void ChildProcess::Signal(int sig) {
  if (!reaped_) kill(pid_, sig);
}

bool ChildProcess::Stop(std::chrono::milliseconds limit) {
  if (reaped_) return false;
  kill(pid_, SIGSTOP);
  // A stopped child is reported once the whole thread group has stopped (WUNTRACED).
  bool stopped = false;
  WaitFor([this, &stopped] {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG | WUNTRACED) != pid_) return false;
    if (WIFSTOPPED(status)) return stopped = true;
    status_ = status;  // it exited
    reaped_ = true;
    return true;
  }, limit);
  return stopped;
}

int ChildProcess::Wait(std::chrono::milliseconds limit) {
  WaitFor([this] {
    if (reaped_) return true;
    if (waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
    return reaped_;
  }, limit);
  if (!reaped_ || !WIFEXITED(status_)) return -1;
  return WEXITSTATUS(status_);
}

ChildProcess::~ChildProcess() {
  if (reaped_) return;
  Signal(SIGTERM);
  Signal(SIGCONT);  // a stopped child acts on the SIGTERM only once it runs again
  Wait(std::chrono::seconds(15));
  if (reaped_) return;
  Signal(SIGKILL);
  Wait(std::chrono::seconds(5));
}

std::unique_ptr<MailTestEnv> MailTestEnv::Create(std::string* error) {
  auto services = test::TestServices::Create("mailtest", 2);
  if (!services.ok()) {
    *error = services.status().ToString();
    return nullptr;
  }
  std::unique_ptr<MailTestEnv> env(new MailTestEnv());
  env->services_ = std::move(*services);
  char tmpl[] = "/tmp/chatpipe-mail-test.XXXXXX";
  if (!mkdtemp(tmpl)) {
    *error = "mkdtemp failed";
    return nullptr;
  }
  env->dir_ = tmpl;
  env->pg_ = std::make_unique<PgConn>(env->config().pg_conninfo);
  auto producer = KafkaProducer::Create(env->config().kafka_brokers);
  if (!producer.ok()) {
    *error = producer.status().ToString();
    return nullptr;
  }
  env->producer_ = std::move(*producer);
  return env;
}

MailTestEnv::~MailTestEnv() {
  mailers_.clear();
  sink_.reset();
  dead_letters_.reset();
  producer_.reset();
  pg_.reset();
  if (!dir_.empty()) std::system(("rm -rf '" + dir_ + "'").c_str());
}

Status MailTestEnv::StartSink(const std::string& reject, const std::string& defer) {
  std::string port_file = dir_ + "/sink.port";
  std::vector<std::string> argv = {"/usr/bin/python3", std::string(CHATPIPE_SOURCE_DIR) + "/ops/smtp-sink",
                                   "--dir", dir_ + "/sink", "--port-file", port_file};
  if (!reject.empty()) argv.insert(argv.end(), {"--reject", reject});
  if (!defer.empty()) argv.insert(argv.end(), {"--defer", defer});
  auto child = ChildProcess::Spawn(argv, dir_ + "/sink.log");
  if (!child.ok()) return child.status();
  sink_ = std::move(*child);
  struct stat st;
  if (!WaitFor([&] { return stat(port_file.c_str(), &st) == 0; }, std::chrono::seconds(20)))
    return Status::Internal("smtp-sink did not start: " + ReadAll(dir_ + "/sink.log"));
  sink_port_ = std::atoi(ReadAll(port_file).c_str());
  return Status::Ok();
}

std::vector<SinkMail> MailTestEnv::SinkMails() const {
  std::vector<SinkMail> out;
  std::string dir = dir_ + "/sink";
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.empty() || name[0] == '.' || name.size() < 4 || name.substr(name.size() - 4) != ".eml") continue;
    std::string raw = ReadAll(dir + "/" + name);
    std::string head = raw.substr(0, raw.find("\r\n\r\n"));
    SinkMail m;
    m.file = name;
    m.received_ms = std::atoll(HeaderOf(head, "X-Sink-Received-At").c_str());
    m.rcpt = HeaderOf(head, "X-Sink-Rcpt-To");
    m.message_id = HeaderOf(head, "Message-ID");
    if (m.message_id.size() >= 2) m.message_id = m.message_id.substr(1, m.message_id.size() - 2);
    m.subject = HeaderOf(head, "Subject");
    m.text = PartOf(raw, "text/plain");
    m.html = PartOf(raw, "text/html");
    out.push_back(std::move(m));
  }
  closedir(d);
  std::sort(out.begin(), out.end(), [](const SinkMail& a, const SinkMail& b) {
    return a.received_ms != b.received_ms ? a.received_ms < b.received_ms : a.file < b.file;
  });
  return out;
}

Result<ChildProcess*> MailTestEnv::StartMailer(const std::vector<std::string>& flags) {
  std::vector<std::string> argv = {CHATPIPE_BIN, "worker", "mail", "--pg", config().pg_conninfo, "--kafka",
                                   config().kafka_brokers, "--redis", config().redis_addr, "--namespace", config().ns,
                                   "--smtp", "smtp://127.0.0.1:" + std::to_string(sink_port_), "--mail-from",
                                   "notify@chatpipe.test", "--status-port", "0", "--poll-ms", "50"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  auto child = ChildProcess::Spawn(argv, dir_ + "/mailer" + std::to_string(++logs_) + ".log");
  if (!child.ok()) return child.status();
  mailers_.push_back(std::move(*child));
  return mailers_.back().get();
}

int64_t MailTestEnv::AddUser(const std::string& name, const std::string& email, bool notifications) {
  auto r = pg_->Exec("INSERT INTO users (name, email, email_notifications) VALUES ($1, $2, $3) RETURNING id",
                     {name, email, notifications ? "true" : "false"});
  return r.ok() ? r->Int(0, 0) : -1;
}

int64_t MailTestEnv::AddMention(int64_t user_id, int64_t room_id, bool read) {
  static std::atomic<int64_t> message{1000};
  auto r = pg_->Exec(
      "INSERT INTO mentions (message_id, room_id, user_id, kind, read_at)"
      " VALUES ($1, $2, $3, 'user', CASE WHEN $4::boolean THEN now() END) RETURNING id",
      {std::to_string(message++), std::to_string(room_id), std::to_string(user_id), read ? "true" : "false"});
  return r.ok() ? r->Int(0, 0) : -1;
}

Mention MailTestEnv::MentionEvent(int64_t mention_id, int64_t user_id, const std::string& text) const {
  Mention m;
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

Status MailTestEnv::Produce(const Mention& m) {
  auto done = std::make_shared<std::promise<Status>>();
  auto result = done->get_future();
  producer_->Produce(config().Topic(kNotifyTopic), std::to_string(m.user_id), EncodeMention(m),
                     [done](Status s) { done->set_value(s); });
  return result.get();
}

std::vector<std::string> MailTestEnv::DeadLetters(size_t want, std::chrono::milliseconds limit) {
  std::vector<std::string> out;
  if (!dead_letters_) {
    auto c = BatchConsumer::Create(config().kafka_brokers, config().Group("test-dead-letters"),
                                   {config().Topic(kDeadLetterTopic)});
    if (!c.ok()) return out;
    dead_letters_ = std::move(*c);
  }
  WaitFor([&] {
    for (auto& m : dead_letters_->Poll(100, std::chrono::milliseconds(100))) out.push_back(m.payload);
    return out.size() >= want;
  }, limit);
  return out;
}

int64_t MailTestEnv::QueryInt(const std::string& sql) {
  auto r = pg_->Exec(sql.c_str());
  if (!r.ok() || r->rows() == 0 || r->IsNull(0, 0)) return -1;
  return r->Int(0, 0);
}

std::string MailTestEnv::QueryText(const std::string& sql) {
  auto r = pg_->Exec(sql.c_str());
  if (!r.ok()) return "error: " + r.status().ToString();
  if (r->rows() == 0 || r->IsNull(0, 0)) return "";
  return std::string(r->Text(0, 0));
}

std::string MailTestEnv::Logs() const {
  std::string out;
  for (int i = 1; i <= logs_; ++i)
    out += "---- mailer" + std::to_string(i) + ".log\n" + ReadAll(dir_ + "/mailer" + std::to_string(i) + ".log");
  out += "---- sink.log\n" + ReadAll(dir_ + "/sink.log");
  return out;
}

}  // namespace chatpipe::mail
