#include "tests/support/worker_env.h"

#include <sodium.h>

#include <future>

#include "storage/redis_keys.h"

namespace chatpipe::test {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::unique_ptr<WorkerTestEnv>> WorkerTestEnv::Create(const std::string& prefix) {
  auto services = TestServices::Create(prefix, 2);
  if (!services.ok()) return services.status();
  std::unique_ptr<WorkerTestEnv> env(new WorkerTestEnv());
  env->services_ = std::move(*services);
  const CommonConfig& config = env->services_->config();
  env->pg_ = std::make_unique<PgConn>(config.pg_conninfo);
  env->redis_ = std::make_unique<RedisClient>(config.RedisShards());
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
  auto r = pg_->Exec("INSERT INTO users (name, email, email_notifications, email_verified_at)"
                     " VALUES ($1, $2, $3, CASE WHEN $2::text IS NOT NULL THEN now() END) RETURNING id",
                     {name, mail, email_notifications ? "true" : "false"});
  if (!r.ok()) return r.status();
  return r->Int(0, 0);
}

Result<int64_t> WorkerTestEnv::CreateRoom(const std::string& name, bool is_private, int64_t creator,
                                          const std::string& moderation) {
  auto r = pg_->Exec(
      "INSERT INTO rooms (name, private, created_by, moderation_mild, moderation_strong) VALUES ($1, $2, $3, $4, $4) "
      "RETURNING id",
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
  // All in flight at once, then every delivery report awaited.
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
  return ProduceTo(config().Topic(kMessagesTopic), key, payload);
}

Status WorkerTestEnv::ProduceTo(const std::string& topic, const std::string& key, const std::string& payload) {
  auto done = std::make_shared<std::promise<Status>>();
  auto result = done->get_future();
  producer_->Produce(topic, key, payload, [done](Status s) { done->set_value(s); });
  return result.get();
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

WorkerThread::WorkerThread(std::function<void(const std::atomic<bool>&)> run)
    : thread_([this, run = std::move(run)] { run(stop_); }) {}

WorkerThread::~WorkerThread() {
  stop_ = true;
  thread_.join();
}

}  // namespace chatpipe::test
