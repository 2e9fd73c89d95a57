// TestStack: one isolated chatpipe deployment for an integration test, on the suite's real services.
//
// A TestStack gives each test a namespace and a migrated database of its own (TestServices,
// services.h), so tests run in parallel without seeing each other. It runs ingress (or, for a test that
// must see it survive, a child process of it) and the persister in-process, workers as child processes
// of the real binary (ChildProcess: for kill -9 tests), and the SMTP sink (SmtpSink). The destructor
// kills the children, stops the rest and drops the database.
// StackTest (stack_test_base.h) is the GoogleTest fixture that creates one.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "ingress/server.h"
#include "storage/pg.h"
#include "storage/redis_client.h"
#include "tests/support/child_process.h"
#include "tests/support/http_client.h"
#include "tests/support/services.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/wait.h"
#include "tests/support/ws_client.h"
#include "workers/persist/persister.h"

namespace chatpipe::test {

struct TestUser {
  int64_t id = 0;
  std::string name;
  std::string token;
};

// A parsed JSON frame or body, and its text for failure messages.
struct Json {
  rapidjson::Document doc;
  std::string text;
  std::string Type() const;
};
Result<Json> ParseJson(const std::string& text);

class TestStack {
 public:
  // On the suite's shared services, or on `at` (PrivateServices). Fails (with a hint to run through
  // ops/test) when the shared services' addresses are not set.
  static Result<std::unique_ptr<TestStack>> Create(int partitions = 4, const ServiceAddresses* at = nullptr);
  ~TestStack();

  const CommonConfig& config() const { return services_->config(); }
  // A database connection and a Redis client of the test's own, for assertions.
  PgConn& pg() { return *pg_; }
  RedisClient& redis() { return *redis_; }

  // Ingress in this process on a free port. `tweak` may change the config before it starts.
  Status StartIngress(const std::function<void(IngressConfig&)>& tweak = {});
  void StopIngress();
  int port() const { return ingress_ ? ingress_->port() : ingress_process_port_; }
  int metrics_port() const { return ingress_ ? ingress_->metrics_port() : 0; }  // port() unless --metrics-port
  // The upload body bytes the in-process ingress holds claims on (its UploadBudget).
  size_t upload_bytes_claimed() const { return ingress_ ? ingress_->upload_bytes_claimed() : 0; }
  std::string Url(const std::string& path) const;
  // Where ingress and the speech worker keep objects (uploads, speech): a directory of the stack's own.
  const std::string& objects_dir() const { return objects_dir_->path(); }
  // The secret ingress signs tokens with: for tests that forge or expire tokens on purpose.
  const std::string& token_secret() const { return token_secret_; }

  // The command line of `chatpipe ingress` on this stack (its services, namespace and token secret),
  // for a test that runs ingress as a child process, followed by `extra`; a flag of `extra` that is
  // already there (--pg, --log-level) replaces its value.
  std::vector<std::string> IngressProcessArgs(const std::vector<std::string>& extra = {}) const;
  // Instead of StartIngress: `chatpipe ingress` as a child process on a free port (IngressProcessArgs
  // plus `extra`), returning once it answers /livez (listening; ready or not: a test may start it with an
  // engine away); the helpers below then talk to it. Its output goes to `log` when that is not empty.
  Status StartIngressProcess(const std::vector<std::string>& extra = {}, const std::string& log = "");
  ChildProcess* ingress_process() { return ingress_process_.get(); }
  int ingress_process_port() const { return ingress_process_port_; }

  // The persister in this process, on its own thread.
  Status StartPersister(const std::function<void(CommonConfig&)>& tweak = {});
  void StopPersister();
  // The command line of `chatpipe worker <kind>` on this stack, followed by `extra`.
  std::vector<std::string> WorkerProcessArgs(const std::string& kind, const std::vector<std::string>& extra = {}) const;
  // `chatpipe worker <kind> <extra...>` as a child process on this stack, its output the test's.
  Status StartWorkerProcess(const std::string& kind, const std::vector<std::string>& extra = {});
  // SIGKILL, as a crash (the destructor kills what is left).
  void KillWorkerProcess(const std::string& kind);
  // ops/smtp-sink on a free port, owned by the stack.
  Result<SmtpSink*> StartSmtpSink();

  // HTTP helpers that fail the Result on any status but the expected one.
  // Signs up `name` with the address name@example.com and logs in. The address is marked verified in the
  // database unless `verified` is false (then only the link of the verification e-mail verifies it).
  Result<TestUser> Register(const std::string& name, bool verified = true);
  Result<TestUser> Guest();
  Result<int64_t> CreateRoom(const TestUser& user, const std::string& name, bool is_private = false);
  Result<HttpResponse> Call(const std::string& method, const std::string& path, const TestUser& user,
                            const std::string& body = "");

  // A WebSocket client of `user`, connected to this stack's ingress.
  Result<std::unique_ptr<WsClient>> Connect(const TestUser& user);

  // Rows of messages in this test's database for a room.
  Result<int64_t> CountMessages(int64_t room);

 private:
  TestStack() = default;

  std::unique_ptr<TestServices> services_;  // first: destroyed (its database dropped) last
  std::string token_secret_;
  std::unique_ptr<TempDir> objects_dir_;
  std::unique_ptr<PgConn> pg_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<IngressServer> ingress_;
  std::unique_ptr<ChildProcess> ingress_process_;
  int ingress_process_port_ = 0;
  std::unique_ptr<Persister> persister_;
  std::atomic<bool> persister_stop_{false};
  std::thread persister_thread_;
  std::map<std::string, std::unique_ptr<ChildProcess>> workers_;
  std::unique_ptr<TempDir> sink_dir_;
  std::unique_ptr<SmtpSink> sink_;  // after sink_dir_: stopped before its directory goes
};

// Receives frames until one satisfies `want` (returned) or the timeout passes; frames that do not are
// appended to `skipped` when given.
Result<Json> ReceiveUntil(WsClient& ws, const std::function<bool(const Json&)>& want,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10),
                          std::vector<Json>* skipped = nullptr);
Result<Json> ReceiveType(WsClient& ws, const std::string& type,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Reads `ws` until each room of `last` has said "joined" and then sent its messages at positions 1 to
// last[room], each once and in order (presence frames are skipped): a joined room's catch-up and live
// stream, whole. `at`: rooms whose "joined" (and messages up to the position given) were read already.
// Otherwise a status naming what came instead, or the read's failure.
Status ReceiveRoomsWhole(WsClient& ws, const std::map<int64_t, int64_t>& last, std::map<int64_t, int64_t> at = {});

// A loopback TCP port nobody listens on now, for a child process to bind.
int FreeLoopbackPort();

}  // namespace chatpipe::test
