#include "workers/batch/test_env.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <future>

#include "cli/migrate_command.h"
#include "storage/redis_keys.h"

namespace chatpipe::test {
namespace {

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string hex(bytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  hex.pop_back();
  return hex;
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::unique_ptr<TestServices>> TestServices::Create(const std::string& prefix, int partitions) {
  std::string pg = Env("CHATPIPE_PG"), redis = Env("CHATPIPE_REDIS"), kafka = Env("CHATPIPE_KAFKA");
  if (pg.empty() || redis.empty() || kafka.empty())
    return Status::Internal("no_services",
                         "CHATPIPE_PG, CHATPIPE_REDIS and CHATPIPE_KAFKA are not set: run the tests with ops/test "
                         "(or `ops/services start DIR` and source DIR/env)");
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

Result<std::unique_ptr<WorkerTestEnv>> WorkerTestEnv::Create() {
  auto services = TestServices::Create("w", 2);
  if (!services.ok()) return services.status();
  std::unique_ptr<WorkerTestEnv> env(new WorkerTestEnv());
  env->services_ = std::move(*services);
  const CommonConfig& config = env->services_->config();
  env->pg_ = std::make_unique<PgConn>(config.pg_conninfo);
  env->redis_ = std::make_unique<RedisClient>(config.RedisHost(), config.RedisPort());
  auto producer = KafkaProducer::Create(config.kafka_brokers);
  if (!producer.ok()) return producer.status();
  env->producer_ = std::move(*producer);
  env->ids_ = std::make_unique<MessageIdGenerator>(randombytes_uniform(1024));
  return env;
}

WorkerTestEnv::~WorkerTestEnv() {
  producer_.reset();
  if (pg_) pg_->Close();
}

Result<int64_t> WorkerTestEnv::CreateUser(const std::string& name, const std::string& email,
                                          bool email_notifications) {
  PgParam mail = email.empty() ? PgParam() : PgParam(email);
  auto r = pg_->Exec("INSERT INTO users (name, email, email_notifications) VALUES ($1, $2, $3) RETURNING id",
                     {name, mail, email_notifications ? "true" : "false"});
  if (!r.ok()) return r.status();
  return r->Int(0, 0);
}

Result<int64_t> WorkerTestEnv::CreateRoom(const std::string& name, bool is_private, int64_t creator,
                                          const std::string& moderation) {
  auto r = pg_->Exec("INSERT INTO rooms (name, private, created_by, moderation) VALUES ($1, $2, $3, $4) RETURNING id",
                     {name, is_private ? "true" : "false", std::to_string(creator), moderation});
  if (!r.ok()) return r.status();
  int64_t room = r->Int(0, 0);
  if (is_private)
    if (Status s = AddMember(room, creator); !s.ok()) return s;
  return room;
}

Status WorkerTestEnv::AddMember(int64_t room, int64_t user) {
  return pg_->Exec("INSERT INTO room_members (room_id, user_id) VALUES ($1, $2)",
                   {std::to_string(room), std::to_string(user)})
      .status();
}

Status WorkerTestEnv::SetOnline(int64_t user, std::chrono::milliseconds ttl) {
  return redis_
      ->Command({"ZADD", OnlineKey(config().RedisPrefix(), user), std::to_string(NowMs() + ttl.count()), "instance-1"})
      .status();
}

Status WorkerTestEnv::SetPresent(int64_t room, int64_t user, std::chrono::milliseconds ttl) {
  return redis_
      ->Command({"ZADD", RoomPresentKey(config().RedisPrefix(), room), std::to_string(NowMs() + ttl.count()),
                 std::to_string(user)})
      .status();
}

ChatEvent WorkerTestEnv::Event(int64_t room, int64_t user, const std::string& user_name, const std::string& text) {
  ChatEvent e;
  e.id = ids_->Next();
  e.room = room;
  e.user = {user, user_name};
  e.text = text;
  e.ts_ms = NowMs();
  return e;
}

Status WorkerTestEnv::Produce(const std::vector<ChatEvent>& events) {
  std::vector<std::future<Status>> delivered;
  for (const auto& e : events) {
    auto done = std::make_shared<std::promise<Status>>();
    delivered.push_back(done->get_future());
    producer_->Produce(config().Topic(kMessagesTopic), std::to_string(e.room), EncodeChatEvent(e),
                       [done](Status s) { done->set_value(s); });
  }
  for (auto& d : delivered)
    if (Status s = d.get(); !s.ok()) return s;
  return Status::Ok();
}

Status WorkerTestEnv::ProduceRaw(const std::string& key, const std::string& payload) {
  std::promise<Status> done;
  producer_->Produce(config().Topic(kMessagesTopic), key, payload, [&done](Status s) { done.set_value(s); });
  return done.get_future().get();
}

Status WorkerTestEnv::AllowConnections(bool allow) {
  PgConn admin(services_->admin_conninfo());
  std::string sql = "ALTER DATABASE " + services_->database() + " ALLOW_CONNECTIONS " + (allow ? "true" : "false");
  if (Status s = admin.Exec(sql.c_str()).status(); !s.ok() || allow) return s;
  pg_->Close();  // ended below too; the next query reconnects
  return admin
      .Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            {services_->database()})
      .status();
}

Result<int64_t> WorkerTestEnv::QueryInt(const std::string& sql) {
  auto r = pg_->Exec(sql.c_str());
  if (!r.ok()) return r.status();
  if (r->rows() == 0 || r->IsNull(0, 0)) return Status::NotFound("no_value", "no value from: " + sql);
  return r->Int(0, 0);
}

Result<std::unique_ptr<Subscriber>> Subscriber::Create(const CommonConfig& config,
                                                       const std::vector<std::string>& channels) {
  std::unique_ptr<Subscriber> s(new Subscriber());
  s->ctx_ = redisConnect(config.RedisHost().c_str(), config.RedisPort());
  if (!s->ctx_ || s->ctx_->err) return Status::Unavailable("redis_unavailable", "cannot connect to Redis");
  for (const auto& channel : channels) {
    auto* reply = static_cast<redisReply*>(redisCommand(s->ctx_, "SUBSCRIBE %b", channel.data(), channel.size()));
    if (!reply) return Status::Unavailable("redis_unavailable", "SUBSCRIBE failed");
    freeReplyObject(reply);
  }
  return s;
}

Subscriber::~Subscriber() {
  if (ctx_) redisFree(ctx_);
}

Result<std::string> Subscriber::Next(std::chrono::milliseconds timeout) {
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  redisSetTimeout(ctx_, tv);
  void* raw = nullptr;
  if (redisGetReply(ctx_, &raw) != REDIS_OK || !raw) {
    // A timed-out context cannot be read again: the subscriber is spent after this.
    return Status::Unavailable("timeout", std::string("no message on the subscribed channels: ") + ctx_->errstr);
  }
  auto* reply = static_cast<redisReply*>(raw);
  std::string payload;
  if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 3) payload.assign(reply->element[2]->str, reply->element[2]->len);
  freeReplyObject(reply);
  return payload;
}

Result<std::unique_ptr<TopicReader>> TopicReader::Create(const CommonConfig& config, const std::string& topic) {
  std::unique_ptr<TopicReader> r(new TopicReader());
  auto consumer = BatchConsumer::Create(config.kafka_brokers, config.Group("reader-" + RandomHex(4)), {topic});
  if (!consumer.ok()) return consumer.status();
  r->consumer_ = std::move(*consumer);
  return r;
}

std::vector<KafkaMessage> TopicReader::Read(size_t count, std::chrono::milliseconds timeout) {
  std::vector<KafkaMessage> out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    auto batch = consumer_->Poll(count - out.size(), std::chrono::milliseconds(100));
    out.insert(out.end(), batch.begin(), batch.end());
  }
  return out;
}

WorkerThread::WorkerThread(std::function<void(const std::atomic<bool>&)> run)
    : thread_([this, run = std::move(run)] { run(stop_); }) {}

WorkerThread::~WorkerThread() {
  stop_ = true;
  thread_.join();
}

bool WaitFor(const std::function<bool()>& check, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (check()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace chatpipe::test
