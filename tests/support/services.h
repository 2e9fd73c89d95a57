// TestServices: a test's own database and namespace on the real services the suite runs.
//
// ops/test (or `ops/services start DIR` and `source DIR/env`) exports where PostgreSQL, Redis and
// Kafka run: CHATPIPE_PG, CHATPIPE_REDIS, CHATPIPE_KAFKA. TestServices gives a test a namespace of its
// own (topics, consumer groups, Redis keys) and a database of its own, migrated, so tests run in
// parallel without seeing each other; it drops the database when destroyed. Every test environment
// here (TestStack, WorkerTestEnv, MailTestEnv) starts from one. A test that crashes the services
// themselves runs them apart (PrivateServices, private_services.h) and passes their addresses.
// TempDir is a test's scratch directory.
#pragma once

#include <memory>
#include <string>

#include "common/config.h"
#include "common/status.h"

namespace chatpipe::test {

// Where PostgreSQL (a libpq conninfo without dbname), Redis (host:port) and Kafka (host:port) run.
struct ServiceAddresses {
  std::string pg, redis, kafka;
  // The suite's shared services, from the environment; fails (with a hint to run through ops/test)
  // when CHATPIPE_PG, CHATPIPE_REDIS or CHATPIPE_KAFKA is unset.
  static Result<ServiceAddresses> FromEnvironment();
};

class TestServices {
 public:
  // Creates the database <prefix>_<random> on `at` (the suite's shared services unless given) and
  // migrates it and the namespace <prefix><random> (topics of `partitions` partitions).
  static Result<std::unique_ptr<TestServices>> Create(const std::string& prefix, int partitions,
                                                      const ServiceAddresses* at = nullptr);
  ~TestServices();  // drops the database, ending the connections still open to it

  // The services with the test's database (pg_conninfo) and namespace.
  const CommonConfig& config() const { return config_; }
  // The PostgreSQL server without a database, and the test's database's name: for admin statements.
  const std::string& admin_conninfo() const { return admin_conninfo_; }
  const std::string& database() const { return database_; }

 private:
  TestServices() = default;
  CommonConfig config_;
  std::string admin_conninfo_, database_;
};

// A new directory under /tmp, removed with everything in it when the TempDir is destroyed.
class TempDir {
 public:
  static Result<std::unique_ptr<TempDir>> Create(const std::string& prefix);
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// `bytes` random bytes as lowercase hex: for names no other test run uses.
std::string RandomHex(size_t bytes);

}  // namespace chatpipe::test
