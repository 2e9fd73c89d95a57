#include "tests/support/services.h"

#include <sodium.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>

#include "cli/migrate_command.h"
#include "storage/pg.h"

namespace chatpipe::test {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

std::string RandomHex(size_t bytes) {
  if (sodium_init() < 0) return "";
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string hex(bytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  hex.pop_back();
  return hex;
}

Result<ServiceAddresses> ServiceAddresses::FromEnvironment() {
  ServiceAddresses at{Env("CHATPIPE_PG"), Env("CHATPIPE_REDIS"), Env("CHATPIPE_KAFKA")};
  if (at.pg.empty() || at.redis.empty() || at.kafka.empty())
    return Status::Internal("no_services",
                         "CHATPIPE_PG, CHATPIPE_REDIS and CHATPIPE_KAFKA are not set: run the tests with ops/test "
                         "(or `ops/services start DIR` and source DIR/env)");
  return at;
}

Result<std::unique_ptr<TestServices>> TestServices::Create(const std::string& prefix, int partitions,
                                                           const ServiceAddresses* at) {
  Result<ServiceAddresses> shared = at ? Result<ServiceAddresses>(*at) : ServiceAddresses::FromEnvironment();
  if (!shared.ok()) return shared.status();
  const std::string &pg = shared->pg, &redis = shared->redis, &kafka = shared->kafka;
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialise");
  std::unique_ptr<TestServices> s(new TestServices());
  std::string id = RandomHex(6), database = prefix + "_" + id;
  s->admin_conninfo_ = pg;
  {
    PgConn admin(pg);
    auto r = admin.Exec(("CREATE DATABASE " + database).c_str());
    if (!r.ok()) return r.status();
  }
  s->database_ = database;  // set once created: from here on the destructor drops it
  s->config_.pg_conninfo = pg + " dbname=" + s->database_;
  s->config_.redis_addr = redis;
  s->config_.kafka_brokers = kafka;
  s->config_.ns = prefix + id;
  if (Status st = Migrate(s->config_, partitions); !st.ok()) return st;
  return s;
}

TestServices::~TestServices() {
  if (database_.empty()) return;
  PgConn admin(admin_conninfo_);
  auto r = admin.Exec(("DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)").c_str());
  if (!r.ok()) spdlog::warn("test services: {}", r.status().ToString());
}

Result<std::unique_ptr<TempDir>> TempDir::Create(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + ".XXXXXX";
  if (!mkdtemp(tmpl.data())) return Status::Internal("mkdtemp " + tmpl + " failed");
  return std::unique_ptr<TempDir>(new TempDir(tmpl));
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace chatpipe::test
