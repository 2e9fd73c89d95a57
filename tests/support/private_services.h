// PrivateServices: PostgreSQL, Redis and Kafka of one test's own, which the test may crash and start
// again without touching the suite's shared services (other tests run on those meanwhile).
//
// Started through `ops/services start --fast` in a TempDir the object owns; Kill is a SIGKILL (a
// crash: `ops/services kill`), Start brings one service back on its old port with its data
// (`ops/services start DIR SERVICE`). The destructor stops all three and removes the directory.
// Every command's output goes to DIR/services.log, which a failing call quotes the end of.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "tests/support/services.h"

namespace chatpipe::test {

class PrivateServices {
 public:
  // Takes a Kafka broker's start (several seconds) and more on a busy machine.
  static Result<std::unique_ptr<PrivateServices>> Start();
  ~PrivateServices();

  const ServiceAddresses& addresses() const { return addresses_; }
  // `service` is "postgresql", "redis" or "kafka". Each waits until the service is gone, or ready.
  Status Kill(const std::string& service);
  Status Start(const std::string& service);

 private:
  explicit PrivateServices(std::unique_ptr<TempDir> dir) : dir_(std::move(dir)) {}
  // Runs ops/services with `args` (DIR is appended where "DIR" stands) and waits for it.
  Status Run(std::vector<std::string> args);
  Status ReadEnv();

  std::unique_ptr<TempDir> dir_;
  std::string root_;  // the stack's directory inside dir_
  ServiceAddresses addresses_;
};

}  // namespace chatpipe::test
