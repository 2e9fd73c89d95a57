// Liveness and readiness (/livez, /readyz, /healthz) of ingress and of a worker, on the real services:
// an engine cut away (a TcpProxy the test cuts, or a port nobody listens on) makes the process live but
// not ready, naming that engine, and it becomes ready by itself once the engine is back. Kafka's absence
// and return take a broker of the test's own (PrivateServices), stopped and started again.
#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/support/child_process.h"
#include "tests/support/private_services.h"
#include "tests/support/stack_test_base.h"
#include "tests/support/tcp_proxy.h"

namespace chatpipe::test {
namespace {

using namespace std::chrono_literals;

// One answer of a health route: its status and JSON body (status 0: no answer).
struct Answer {
  long status = 0;
  Json json;
  std::string instance_header;
  std::string Check(const char* name) const {
    const auto& d = json.doc;
    if (!d.IsObject() || !d.HasMember("checks") || !d["checks"].HasMember(name)) return "(absent)";
    return d["checks"][name].GetString();
  }
  bool Ready() const { return status == 200 && json.doc.IsObject() && json.doc["ready"].GetBool(); }
};

Answer Get(int port, const std::string& path) {
  Answer a;
  auto r = HttpRequest("GET", "http://127.0.0.1:" + std::to_string(port) + path, "", {}, 3s);
  if (!r.ok()) return a;
  auto json = ParseJson(r->body);
  if (!json.ok()) return a;
  a.status = r->status;
  a.json = std::move(*json);
  a.instance_header = r->headers["x-instance-id"];
  return a;
}

// Asks `path` until `want` holds (true) or the time is up; *last is the last answer.
bool WaitForAnswer(int port, const std::string& path, const std::function<bool(const Answer&)>& want, Answer* last,
                   std::chrono::milliseconds timeout = 30s) {
  return WaitFor([&] {
    *last = Get(port, path);
    return want(*last);
  }, timeout);
}

std::string ConninfoPort(const std::string& conninfo) {
  size_t at = conninfo.find("port=");
  return conninfo.substr(at + 5, conninfo.find(' ', at) - at - 5);
}

// `chatpipe worker persist` as a child process, its status on a port of its own.
struct Worker {
  std::unique_ptr<ChildProcess> process;
  int port = 0;
};

// Starts `args` (a worker's command line) with --status-port, once its /livez answers.
Result<Worker> StartWorker(std::vector<std::string> args) {
  Worker w;
  w.port = FreeLoopbackPort();
  args.insert(args.end(), {"--status-port", std::to_string(w.port)});
  auto child = ChildProcess::Spawn(args);
  if (!child.ok()) return child.status();
  w.process = std::move(*child);
  Answer live;
  if (!WaitForAnswer(w.port, "/livez", [](const Answer& a) { return a.status == 200; }, &live))
    return Status::Internal("the worker's /livez never answered");
  return w;
}

// Sets the value that follows `flag` in `args`.
void SetFlag(std::vector<std::string>& args, const std::string& flag, const std::string& value) {
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == flag) args[i + 1] = value;
}

using HealthTest = StackTest;

TEST_F(HealthTest, AnIngressWithEveryEngineUpIsLiveAndReady) {
  ASSERT_TRUE(stack->StartIngress().ok());
  Answer live = Get(stack->port(), "/livez");
  EXPECT_EQ(live.status, 200) << live.json.text;
  EXPECT_EQ(live.json.text, R"({"live":true,"instance":")" + live.instance_header + R"("})");

  Answer ready;
  ASSERT_TRUE(WaitForAnswer(stack->port(), "/readyz", [](const Answer& a) { return a.Ready(); }, &ready))
      << ready.json.text;
  EXPECT_EQ(std::string(ready.json.doc["status"].GetString()), "ok");
  EXPECT_EQ(std::string(ready.json.doc["instance"].GetString()), live.instance_header);
  EXPECT_EQ(ready.json.doc["checks"].MemberCount(), 3u) << ready.json.text;
  for (const char* engine : {"kafka", "postgres", "redis"}) EXPECT_EQ(ready.Check(engine), "ok") << engine;

  // /healthz answers as /readyz, with the fields it always had.
  Answer health = Get(stack->port(), "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(std::string(health.json.doc["status"].GetString()), "ok");
  EXPECT_EQ(std::string(health.json.doc["instance"].GetString()), live.instance_header);
}

TEST_F(HealthTest, AnIngressWithoutRedisIsLiveButNotReadyUntilRedisIsBack) {
  TcpProxy redis(stack->config().RedisShards()[0].host, static_cast<uint16_t>(stack->config().RedisShards()[0].port));
  redis.Cut();
  ASSERT_TRUE(stack->StartIngress([&](IngressConfig& c) {
    c.common.redis_addr = "127.0.0.1:" + std::to_string(redis.port());
    c.instance = 1;  // else taken from a Redis counter at start
  }).ok());
  EXPECT_EQ(Get(stack->port(), "/livez").status, 200);
  Answer a;
  // Once Kafka's and PostgreSQL's checks have run, Redis alone keeps it from being ready.
  auto others_ok = [](const Answer& x) { return x.Check("kafka") == "ok" && x.Check("postgres") == "ok"; };
  ASSERT_TRUE(WaitForAnswer(stack->port(), "/readyz", others_ok, &a))
      << a.json.text;
  EXPECT_EQ(a.status, 503) << a.json.text;
  EXPECT_FALSE(a.json.doc["ready"].GetBool());
  EXPECT_EQ(std::string(a.json.doc["status"].GetString()), "not_ready");
  EXPECT_NE(a.Check("redis").find("down"), std::string::npos) << a.json.text;
  EXPECT_EQ(Get(stack->port(), "/healthz").status, 503);

  redis.Restore();
  EXPECT_TRUE(WaitForAnswer(stack->port(), "/readyz", [](const Answer& x) { return x.Ready(); }, &a)) << a.json.text;
  EXPECT_EQ(a.Check("redis"), "ok");
}

TEST_F(HealthTest, AnIngressWithoutPostgresIsLiveButNotReadyUntilItIsBack) {
  TcpProxy pg("127.0.0.1", static_cast<uint16_t>(std::stoi(ConninfoPort(stack->config().pg_conninfo))));
  pg.Cut();
  ASSERT_TRUE(stack->StartIngress([&](IngressConfig& c) {
    c.common.pg_conninfo += " host=127.0.0.1 port=" + std::to_string(pg.port());
  }).ok());
  EXPECT_EQ(Get(stack->port(), "/livez").status, 200);
  Answer a;
  ASSERT_TRUE(WaitForAnswer(stack->port(), "/readyz",
                            [](const Answer& x) { return x.Check("kafka") == "ok" && x.Check("redis") == "ok" &&
                                                         x.Check("postgres") != "not checked yet"; },
                            &a))
      << a.json.text;
  EXPECT_EQ(a.status, 503) << a.json.text;
  EXPECT_NE(a.Check("postgres").find("PostgreSQL"), std::string::npos) << a.json.text;

  pg.Restore();
  EXPECT_TRUE(WaitForAnswer(stack->port(), "/readyz", [](const Answer& x) { return x.Ready(); }, &a)) << a.json.text;
  // Started without PostgreSQL, it took its message-id instance number once PostgreSQL answered: it
  // stamps and acknowledges sends.
  auto ana = stack->Guest();
  ASSERT_TRUE(ana.ok()) << ana.status().ToString();
  auto room = stack->CreateRoom(*ana, "lobby");
  ASSERT_TRUE(room.ok()) << room.status().ToString();
  auto ws = stack->Connect(*ana);
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  ASSERT_TRUE((*ws)->SendText("{\"type\":\"join\",\"room\":" + std::to_string(*room) + "}").ok());
  ASSERT_TRUE(ReceiveType(**ws, "joined").ok());
  ASSERT_TRUE((*ws)->SendText("{\"type\":\"send\",\"room\":" + std::to_string(*room) +
                              ",\"text\":\"hola\",\"client_msg_id\":\"c1\"}")
                  .ok());
  auto ack = ReceiveUntil(**ws, [](const Json& j) { return j.Type() == "ack" || j.Type() == "error"; });
  ASSERT_TRUE(ack.ok()) << ack.status().ToString();
  EXPECT_EQ(ack->Type(), "ack") << ack->text;
}

TEST_F(HealthTest, AnIngressWithoutKafkaIsLiveButNotReady) {
  ASSERT_TRUE(stack->StartIngress([](IngressConfig& c) {
    c.common.kafka_brokers = "127.0.0.1:" + std::to_string(FreeLoopbackPort());
  }).ok());
  EXPECT_EQ(Get(stack->port(), "/livez").status, 200);
  Answer a;
  // Once every check has run (Kafka's first), Kafka alone keeps it from being ready.
  ASSERT_TRUE(WaitForAnswer(stack->port(), "/readyz", [](const Answer& x) {
    return x.Check("kafka").rfind("Kafka", 0) == 0 && x.Check("postgres") == "ok" && x.Check("redis") == "ok";
  }, &a)) << a.json.text;
  EXPECT_EQ(a.status, 503) << a.json.text;
  EXPECT_FALSE(a.json.doc["ready"].GetBool());
}

TEST_F(HealthTest, AWorkerIsNotReadyWhilePostgresOrRedisIsAwayAndReadyOnceBothAreBack) {
  TcpProxy pg("127.0.0.1", static_cast<uint16_t>(std::stoi(ConninfoPort(stack->config().pg_conninfo))));
  TcpProxy redis(stack->config().RedisShards()[0].host, static_cast<uint16_t>(stack->config().RedisShards()[0].port));
  pg.Cut();
  redis.Cut();
  std::vector<std::string> args = stack->WorkerProcessArgs("persist");
  SetFlag(args, "--pg", stack->config().pg_conninfo + " host=127.0.0.1 port=" + std::to_string(pg.port()));
  SetFlag(args, "--redis", "127.0.0.1:" + std::to_string(redis.port()));
  auto worker = StartWorker(args);
  ASSERT_TRUE(worker.ok()) << worker.status().ToString();
  const int port = worker->port;
  Answer a = Get(port, "/livez");
  EXPECT_EQ(a.json.text.rfind(R"({"live":true,"instance":"persist-)", 0), 0u) << a.json.text;

  ASSERT_TRUE(WaitForAnswer(port, "/readyz", [](const Answer& x) {
    return x.Check("kafka") == "ok" && x.Check("postgres") != "not checked yet" && x.Check("redis") != "not checked yet";
  }, &a)) << a.json.text;
  EXPECT_EQ(a.status, 503);
  EXPECT_NE(a.Check("postgres").find("PostgreSQL"), std::string::npos) << a.json.text;
  EXPECT_NE(a.Check("redis").find("Redis"), std::string::npos) << a.json.text;

  redis.Restore();
  ASSERT_TRUE(WaitForAnswer(port, "/readyz", [](const Answer& x) { return x.Check("redis") == "ok"; }, &a))
      << a.json.text;
  EXPECT_EQ(a.status, 503);
  EXPECT_NE(a.Check("postgres"), "ok");
  EXPECT_EQ(Get(port, "/healthz").status, 503);

  pg.Restore();
  EXPECT_TRUE(WaitForAnswer(port, "/readyz", [](const Answer& x) { return x.Ready(); }, &a)) << a.json.text;
  EXPECT_EQ(std::string(a.json.doc["status"].GetString()), "ok");
  EXPECT_EQ(Get(port, "/healthz").status, 200);
}

// Kafka cannot be cut by a proxy (clients reach the broker it advertises), so this test runs one of its
// own and stops it.
TEST(HealthWithOwnKafkaTest, IngressAndWorkerAreNotReadyWhileKafkaIsDownAndReadyOnceItIsBack) {
  auto services = PrivateServices::Start();
  ASSERT_TRUE(services.ok()) << services.status().ToString();
  auto stack = TestStack::Create(4, &(*services)->addresses());
  ASSERT_TRUE(stack.ok()) << stack.status().ToString();
  ASSERT_TRUE((*stack)->StartIngress().ok());
  auto worker = StartWorker((*stack)->WorkerProcessArgs("persist"));
  ASSERT_TRUE(worker.ok()) << worker.status().ToString();
  const int ports[] = {(*stack)->port(), worker->port};
  Answer a;
  for (int port : ports)
    ASSERT_TRUE(WaitForAnswer(port, "/readyz", [](const Answer& x) { return x.Ready(); }, &a, 60s)) << a.json.text;

  Status killed = (*services)->Kill("kafka");
  ASSERT_TRUE(killed.ok()) << killed.ToString();
  for (int port : ports) {
    EXPECT_TRUE(WaitForAnswer(port, "/readyz", [](const Answer& x) { return x.status == 503; }, &a)) << a.json.text;
    EXPECT_NE(a.Check("kafka"), "ok") << a.json.text;
    EXPECT_EQ(a.Check("postgres"), "ok");
    EXPECT_EQ(a.Check("redis"), "ok");
    EXPECT_EQ(Get(port, "/livez").status, 200);
  }

  Status started = (*services)->Start("kafka");
  ASSERT_TRUE(started.ok()) << started.ToString();
  for (int port : ports)
    EXPECT_TRUE(WaitForAnswer(port, "/readyz", [](const Answer& x) { return x.Ready(); }, &a, 90s)) << a.json.text;
}

}  // namespace
}  // namespace chatpipe::test
