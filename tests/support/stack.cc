#include "tests/support/stack.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace chatpipe::test {
namespace {

std::string JsonString(const std::string& s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.String(s.c_str(), s.size());
  return buf.GetString();
}

Result<Json> ExpectJson(const Result<HttpResponse>& r, long status) {
  if (!r.ok()) return r.status();
  if (r->status != status)
    return Status::Internal("unexpected_status",
                         "HTTP " + std::to_string(r->status) + " (wanted " + std::to_string(status) + "): " + r->body);
  return ParseJson(r->body);
}

}  // namespace

std::string Json::Type() const {
  return doc.IsObject() && doc.HasMember("type") && doc["type"].IsString() ? doc["type"].GetString() : "";
}

Result<Json> ParseJson(const std::string& text) {
  Json j;
  j.text = text;
  if (j.doc.Parse(text.c_str(), text.size()).HasParseError())
    return Status::Internal("bad_json", "not JSON: " + text);
  return j;
}

Result<std::unique_ptr<TestStack>> TestStack::Create(int partitions, const ServiceAddresses* at) {
  auto services = TestServices::Create("t", partitions, at);
  if (!services.ok()) return services.status();
  std::unique_ptr<TestStack> s(new TestStack());
  s->services_ = std::move(*services);
  s->token_secret_ = "test-secret-" + RandomHex(16);
  auto objects = TempDir::Create("objects");
  if (!objects.ok()) return objects.status();
  s->objects_dir_ = std::move(*objects);
  s->pg_ = std::make_unique<PgConn>(s->config().pg_conninfo);
  s->redis_ = std::make_unique<RedisClient>(s->config().RedisShards());
  if (Status st = s->pg_->Connect(); !st.ok()) return st;
  if (Status st = s->redis_->Connect(); !st.ok()) return st;
  return s;
}

TestStack::~TestStack() {
  StopIngress();
  StopPersister();
  for (auto& [kind, worker] : workers_) worker->Kill();
  if (pg_) pg_->Close();
}

Status TestStack::StartIngress(const std::function<void(IngressConfig&)>& tweak) {
  IngressConfig c;
  c.common = config();
  c.host = "127.0.0.1";
  c.port = 0;
  c.threads = 2;
  c.db_threads = 2;
  c.token_secret = token_secret_;
  c.media.objects.dir = objects_dir();
  if (tweak) tweak(c);
  ingress_ = std::make_unique<IngressServer>(c);
  return ingress_->Start();
}

void TestStack::StopIngress() {
  if (ingress_) ingress_->Stop();
  ingress_.reset();
}

std::string TestStack::Url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port()) + path;
}

Status TestStack::StartPersister(const std::function<void(CommonConfig&)>& tweak) {
  CommonConfig c = config();
  if (tweak) tweak(c);
  persister_ = std::make_unique<Persister>(c, 500);
  if (Status s = persister_->Start(); !s.ok()) return s;
  persister_stop_ = false;
  persister_thread_ = std::thread([this] { persister_->Run(persister_stop_); });
  return Status::Ok();
}

void TestStack::StopPersister() {
  persister_stop_ = true;
  if (persister_thread_.joinable()) persister_thread_.join();
  persister_.reset();
}

std::vector<std::string> TestStack::IngressProcessArgs(const std::vector<std::string>& extra) const {
  // The secret goes in the environment, as ingress takes it (no flag: ps would show it); env(1)
  // sets it for the child alone. This test secret is thrown away with the stack.
  std::vector<std::string> args = {"/usr/bin/env", "CHATPIPE_TOKEN_SECRET=" + token_secret_,
                                   CHATPIPE_BINARY, "ingress", "--kafka", config().kafka_brokers,
                                   "--pg", config().pg_conninfo, "--redis", config().redis_addr,
                                   "--namespace", config().ns, "--host", "127.0.0.1", "--log-level", "warn",
                                   "--objects-dir", objects_dir()};
  // A flag of `extra` already given takes the place of its value: a second one would be an error.
  for (size_t i = 0; i < extra.size(); ++i) {
    auto given = std::find(args.begin(), args.end(), extra[i]);
    if (extra[i].rfind("--", 0) == 0 && given != args.end() && given + 1 != args.end() && i + 1 < extra.size())
      *(given + 1) = extra[++i];
    else
      args.push_back(extra[i]);
  }
  return args;
}

std::vector<std::string> TestStack::WorkerProcessArgs(const std::string& kind,
                                                     const std::vector<std::string>& extra) const {
  std::vector<std::string> args = {CHATPIPE_BINARY, "worker", kind, "--kafka", config().kafka_brokers,
                                   "--pg", config().pg_conninfo, "--redis", config().redis_addr,
                                   "--namespace", config().ns, "--log-level", "warn"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

Status TestStack::StartIngressProcess(const std::vector<std::string>& extra, const std::string& log) {
  const int port = FreeLoopbackPort();
  std::vector<std::string> args = {"--port", std::to_string(port)};
  args.insert(args.end(), extra.begin(), extra.end());
  auto child = ChildProcess::Spawn(IngressProcessArgs(args), log);
  if (!child.ok()) return child.status();
  ingress_process_ = std::move(*child);
  ingress_process_port_ = port;
  bool up = WaitFor([&] {
    auto r = HttpRequest("GET", Url("/livez"), "", {}, std::chrono::seconds(2));
    return (r.ok() && r->status == 200) || !ingress_process_->Running();
  }, std::chrono::seconds(30));
  if (!up || !ingress_process_->Running()) return Status::Internal("ingress_failed", "the ingress child did not start");
  return Status::Ok();
}

Status TestStack::StartWorkerProcess(const std::string& kind, const std::vector<std::string>& extra) {
  auto child = ChildProcess::Spawn(WorkerProcessArgs(kind, extra));
  if (!child.ok()) return child.status();
  workers_[kind] = std::move(*child);
  return Status::Ok();
}

void TestStack::KillWorkerProcess(const std::string& kind) {
  auto it = workers_.find(kind);
  if (it == workers_.end()) return;
  it->second->Kill();
  workers_.erase(it);
}

Result<SmtpSink*> TestStack::StartSmtpSink() {
  auto dir = TempDir::Create("chatpipe-sink");
  if (!dir.ok()) return dir.status();
  sink_dir_ = std::move(*dir);
  auto sink = SmtpSink::Start(sink_dir_->path());
  if (!sink.ok()) return sink.status();
  sink_ = std::move(*sink);
  return sink_.get();
}

Result<HttpResponse> TestStack::Call(const std::string& method, const std::string& path, const TestUser& user,
                                     const std::string& body) {
  std::vector<std::string> headers;
  if (!user.token.empty()) headers.push_back("Authorization: Bearer " + user.token);
  return HttpRequest(method, Url(path), body, headers);
}

Result<TestUser> TestStack::Register(const std::string& name, bool verified) {
  TestUser u;
  u.name = name;
  std::string password = "pw-" + RandomHex(8);
  auto created = ExpectJson(Call("POST", "/api/users", u,
                                 "{\"name\":" + JsonString(name) + ",\"email\":" + JsonString(name + "@example.com") +
                                     ",\"password\":" + JsonString(password) + "}"),
                            201);
  if (!created.ok()) return created.status();
  u.id = created->doc["id"].GetInt64();
  if (verified)
    if (auto r = pg_->Exec("UPDATE users SET email_verified_at = now() WHERE id = $1", {std::to_string(u.id)}); !r.ok())
      return r.status();
  auto session = ExpectJson(
      Call("POST", "/api/sessions", u, "{\"name\":" + JsonString(name) + ",\"password\":" + JsonString(password) + "}"),
      200);
  if (!session.ok()) return session.status();
  u.token = session->doc["token"].GetString();
  return u;
}

Result<TestUser> TestStack::Guest() {
  auto session = ExpectJson(Call("POST", "/api/sessions/guest", TestUser{}), 200);
  if (!session.ok()) return session.status();
  TestUser u;
  u.token = session->doc["token"].GetString();
  u.id = session->doc["user"]["id"].GetInt64();
  u.name = session->doc["user"]["name"].GetString();
  return u;
}

Result<int64_t> TestStack::CreateRoom(const TestUser& user, const std::string& name, bool is_private) {
  auto room = ExpectJson(Call("POST", "/api/rooms", user,
                              "{\"name\":" + JsonString(name) + ",\"private\":" + (is_private ? "true" : "false") + "}"),
                         201);
  if (!room.ok()) return room.status();
  return room->doc["id"].GetInt64();
}

Result<std::unique_ptr<WsClient>> TestStack::Connect(const TestUser& user) {
  return WsClient::Connect("127.0.0.1", port(), "/ws", {"Authorization: Bearer " + user.token});
}

Result<int64_t> TestStack::CountMessages(int64_t room) {
  auto r = pg_->Exec("SELECT count(*) FROM messages WHERE room_id = $1", {std::to_string(room)});
  if (!r.ok()) return r.status();
  return r->Int(0, 0);
}

Result<Json> ReceiveUntil(WsClient& ws, const std::function<bool(const Json&)>& want,
                          std::chrono::milliseconds timeout, std::vector<Json>* skipped) {
  Result<Json> found = Status::DeadlineExceeded("timeout", "no matching frame in time");
  WaitFor([&](std::chrono::milliseconds left) {
    if (left.count() == 0) return true;  // found keeps the timeout
    auto text = ws.ReceiveText(left);
    Result<Json> frame = text.ok() ? ParseJson(*text) : Result<Json>(text.status());
    if (frame.ok() && !want(*frame)) {
      if (skipped) skipped->push_back(std::move(*frame));
      return false;
    }
    found = std::move(frame);  // the match, or the error that ends the wait
    return true;
  }, timeout);
  return found;
}

Result<Json> ReceiveType(WsClient& ws, const std::string& type, std::chrono::milliseconds timeout) {
  return ReceiveUntil(ws, [&](const Json& j) { return j.Type() == type; }, timeout);
}

Status ReceiveRoomsWhole(WsClient& ws, const std::map<int64_t, int64_t>& last, std::map<int64_t, int64_t> at) {
  // at: room -> last position received; absent: not joined yet
  auto done = [&] {
    for (const auto& [room, pos] : last)
      if (!at.count(room) || at[room] != pos) return false;
    return true;
  };
  while (!done()) {
    auto text = ws.ReceiveText();
    if (!text.ok())
      return Status::Internal("receive", text.status().ToString() + " (close code " + std::to_string(ws.close_code()) + ")");
    auto j = ParseJson(*text);
    if (!j.ok()) return j.status();
    if (j->Type() == "presence") continue;
    const int64_t room = j->doc.HasMember("room") && j->doc["room"].IsInt64() ? j->doc["room"].GetInt64() : 0;
    if (!last.count(room)) return Status::Internal("unexpected", "a frame of no room asked for: " + j->text);
    if (j->Type() == "joined") {
      if (!at.emplace(room, 0).second) return Status::Internal("unexpected", "joined twice: " + j->text);
      continue;
    }
    if (j->Type() != "message" || !at.count(room))
      return Status::Internal("unexpected", "not a message after joined: " + j->text);
    if (j->doc["pos"].GetInt64() != at[room] + 1)
      return Status::Internal("gap", "room " + std::to_string(room) + " after position " + std::to_string(at[room]) +
                                         ": " + j->text);
    at[room] = j->doc["pos"].GetInt64();
  }
  return Status::Ok();
}

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  socklen_t len = sizeof addr;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace chatpipe::test
