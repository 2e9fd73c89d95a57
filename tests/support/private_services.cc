#include "tests/support/private_services.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "tests/support/child_process.h"

namespace chatpipe::test {
namespace {

// The value of `export NAME='value'` in the env file ops/services writes (values hold no quote).
std::string EnvValue(const std::string& env, const std::string& name) {
  const std::string key = "export " + name + "='";
  size_t at = env.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  size_t end = env.find('\'', at);
  return end == std::string::npos ? "" : env.substr(at, end - at);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

Result<std::unique_ptr<PrivateServices>> PrivateServices::Start() {
  auto dir = TempDir::Create("chatpipe-private");
  if (!dir.ok()) return dir.status();
  // mkdtemp makes it private; PostgreSQL runs as the postgres user when we are root (as ops/test).
  chmod((*dir)->path().c_str(), 0755);
  std::unique_ptr<PrivateServices> s(new PrivateServices(std::move(*dir)));
  s->root_ = s->dir_->path() + "/stack";
  // --fast (no fsync) loses data only to a machine crash; a killed process loses nothing committed.
  if (Status st = s->Run({"start", "--fast", "DIR"}); !st.ok()) return st;
  if (Status st = s->ReadEnv(); !st.ok()) return st;
  return s;
}

PrivateServices::~PrivateServices() {
  if (root_.empty()) return;
  if (Status s = Run({"stop", "DIR"}); !s.ok()) spdlog::warn("private services: {}", s.ToString());
}

Status PrivateServices::Kill(const std::string& service) { return Run({"kill", "DIR", service}); }

Status PrivateServices::Start(const std::string& service) { return Run({"start", "--fast", "DIR", service}); }

Status PrivateServices::Run(std::vector<std::string> args) {
  for (auto& a : args)
    if (a == "DIR") a = root_;
  args.insert(args.begin(), {"/bin/bash", CHATPIPE_SOURCE_DIR "/ops/services"});
  const std::string log = dir_->path() + "/services.log";
  auto child = ChildProcess::Spawn(args, log);
  if (!child.ok()) return child.status();
  int rc = (*child)->Wait(std::chrono::seconds(120));
  if (rc == 0) return Status::Ok();
  std::string out = ReadFile(log);
  if (out.size() > 2000) out = out.substr(out.size() - 2000);
  return Status::Internal("services_failed", "ops/services " + args[2] + " exited " + std::to_string(rc) + ":\n" + out);
}

Status PrivateServices::ReadEnv() {
  std::string env = ReadFile(root_ + "/env");
  addresses_.pg = EnvValue(env, "CHATPIPE_PG");
  addresses_.redis = EnvValue(env, "CHATPIPE_REDIS");
  addresses_.kafka = EnvValue(env, "CHATPIPE_KAFKA");
  if (addresses_.pg.empty() || addresses_.redis.empty() || addresses_.kafka.empty())
    return Status::Internal("services_failed", "no addresses in " + root_ + "/env");
  return Status::Ok();
}

}  // namespace chatpipe::test
