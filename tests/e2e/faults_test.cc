// Faults through the real stack: Kafka not confirming, PostgreSQL or Redis away from the persister for
// a while, and a persister killed with SIGKILL mid-stream. Nothing acknowledged is lost and nothing is
// stored twice.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "storage/board_store.h"
#include "storage/redis_keys.h"
#include "tests/support/loopback_server.h"
#include "tests/support/stack_test_base.h"
#include "tests/support/tcp_proxy.h"
#include "workers/consume/worker_metrics.h"

namespace chatpipe::test {
namespace {

std::string ConninfoValue(const std::string& conninfo, const std::string& key) {
  size_t at = conninfo.find(key + "=");
  if (at == std::string::npos) return "";
  size_t end = conninfo.find(' ', at);
  return conninfo.substr(at + key.size() + 1, end == std::string::npos ? std::string::npos : end - at - key.size() - 1);
}

class FaultsTest : public StackTest {
 protected:
  void Prepare() {
    ASSERT_TRUE(stack->StartIngress().ok());
    ASSERT_TRUE(RegisterWithRoom("ana", "general", &ana, &room));
  }

  // An ingress whose "broker" accepts connections and never answers, so confirms nothing; then ana
  // and her room.
  void PrepareOnSilentKafka(const std::function<void(IngressConfig&)>& tweak = {}) {
    silent_kafka_ = std::make_unique<LoopbackServer>([](int fd) {
      char buf[4096];
      while (::recv(fd, buf, sizeof buf, 0) > 0) {
      }
    });
    ASSERT_TRUE(stack->StartIngress([&](IngressConfig& c) {
      c.common.kafka_brokers = "127.0.0.1:" + std::to_string(silent_kafka_->port());
      c.kafka_timeout_ms = 1500;
      if (tweak) tweak(c);
    }).ok());
    ASSERT_TRUE(RegisterWithRoom("ana", "general", &ana, &room));
  }

  // Posts `n` messages over HTTP; returns the ids Kafka confirmed (every one, or the test fails).
  std::set<std::string> PostMessages(int n, const std::string& prefix) {
    std::set<std::string> ids;
    for (int i = 0; i < n; ++i) {
      auto r = stack->Call("POST", "/api/rooms/" + std::to_string(room) + "/messages", ana,
                           "{\"text\":\"" + prefix + std::to_string(i) + "\"}");
      EXPECT_TRUE(r.ok() && r->status == 202) << (r.ok() ? r->body : r.status().ToString());
      if (r.ok() && r->status == 202) ids.insert(ParseJson(r->body)->doc["id"].GetString());
    }
    return ids;
  }

  // Every acknowledged id is stored exactly once, at positions 1..n without gaps.
  void ExpectStoredExactlyOnce(const std::set<std::string>& acked) {
    ASSERT_TRUE(WaitFor([&] { return stack->CountMessages(room).value_or(0) >= int64_t(acked.size()); },
                           std::chrono::seconds(60)));
    auto rows = stack->pg().Exec("SELECT id, pos FROM messages WHERE room_id = $1 ORDER BY pos", {std::to_string(room)});
    ASSERT_TRUE(rows.ok());
    std::set<std::string> stored;
    for (int i = 0; i < rows->rows(); ++i) {
      EXPECT_EQ(rows->Int(i, 1), i + 1);
      stored.insert(std::string(rows->Text(i, 0)));
    }
    EXPECT_EQ(rows->rows(), int(acked.size()));
    EXPECT_EQ(stored, acked);
  }

  // The Redis history holds the last kHistoryCap positions, each once, newest first.
  void ExpectHistoryIsTheLastTen(int64_t head) {
    const std::string key = RoomHistoryKey(stack->config().RedisPrefix(), room);
    ASSERT_TRUE(WaitFor([&] {
      auto first = stack->redis().Command({"LINDEX", key, "0"});
      return first.ok() && ParseJson(first->str).ok() && ParseJson(first->str)->doc["pos"].GetInt64() == head;
    }));
    auto list = stack->redis().Command({"LRANGE", key, "0", "-1"});
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(list->elements.size(), size_t(kHistoryCap));
    for (size_t i = 0; i < list->elements.size(); ++i)
      EXPECT_EQ(ParseJson(list->elements[i].str)->doc["pos"].GetInt64(), head - int64_t(i));
  }

  // The persister reaches PostgreSQL (or Redis) through a proxy the test cuts: it must retry without
  // committing, so a persister started after the outage (from the committed offsets) still stores all.
  void RunOutage(bool cut_postgres) {
    const CommonConfig& c = stack->config();
    std::unique_ptr<TcpProxy> proxy;
    if (cut_postgres)
      proxy = std::make_unique<TcpProxy>("127.0.0.1", std::stoi(ConninfoValue(c.pg_conninfo, "port")));
    else
      proxy = std::make_unique<TcpProxy>(c.RedisShards()[0].host, c.RedisShards()[0].port);
    auto through_proxy = [&](CommonConfig& pc) {
      if (cut_postgres) pc.pg_conninfo += " host=127.0.0.1 port=" + std::to_string(proxy->port());
      else pc.redis_addr = "127.0.0.1:" + std::to_string(proxy->port());
    };
    ASSERT_TRUE(stack->StartPersister(through_proxy).ok());
    std::set<std::string> acked = PostMessages(5, "before ");
    ASSERT_TRUE(WaitFor([&] { return stack->CountMessages(room).value_or(0) == 5; }));

    Metric& retries = WorkerMetrics::For("persist").retries;
    int64_t retries_before = retries.value();
    proxy->Cut();
    auto during = PostMessages(20, "during ");
    acked.insert(during.begin(), during.end());
    ASSERT_TRUE(WaitFor([&] { return retries.value() > retries_before; })) << "the persister never retried";
    // Stopping now commits what is stored: nothing of the failed batch may be among it.
    stack->StopPersister();
    proxy->Restore();
    ASSERT_TRUE(stack->StartPersister(through_proxy).ok());
    auto after = PostMessages(5, "after ");
    acked.insert(after.begin(), after.end());
    ExpectStoredExactlyOnce(acked);
    ExpectHistoryIsTheLastTen(30);
  }

  TestUser ana;
  int64_t room = 0;
  std::unique_ptr<LoopbackServer> silent_kafka_;
};

TEST_F(FaultsTest, KafkaThatNeverConfirmsGivesAnErrorNotAnAck) {
  ASSERT_NO_FATAL_FAILURE(PrepareOnSilentKafka());
  auto post = stack->Call("POST", "/api/rooms/" + std::to_string(room) + "/messages", ana, "{\"text\":\"lost?\"}");
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 503) << post->body;
  EXPECT_NE(post->body.find("queue_unavailable"), std::string::npos) << post->body;

  auto ws = stack->Connect(ana);
  ASSERT_TRUE(ws.ok());
  ASSERT_TRUE((*ws)->SendText("{\"type\":\"join\",\"room\":" + std::to_string(room) + "}").ok());
  ASSERT_TRUE(ReceiveType(**ws, "joined").ok());
  ASSERT_TRUE((*ws)->SendText("{\"type\":\"send\",\"room\":" + std::to_string(room) +
                              ",\"text\":\"lost?\",\"client_msg_id\":\"k1\"}").ok());
  auto reply = ReceiveUntil(**ws, [](const Json& j) { return j.Type() == "ack" || j.Type() == "error"; });
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->Type(), "error") << reply->text;
  EXPECT_STREQ(reply->doc["code"].GetString(), "queue_unavailable");
  EXPECT_STREQ(reply->doc["client_msg_id"].GetString(), "k1");
}

// Kafka refusing every message in flight at once writes one warning, not one a message: an outage must
// not flood the log at the rate clients send.
TEST_F(FaultsTest, KafkaRefusingABurstWritesOneWarningNotOneAMessage) {
  ASSERT_NO_FATAL_FAILURE(PrepareOnSilentKafka());
  std::stringstream log;
  struct Capture {  // the test's logger until the end of the test, however it ends
    explicit Capture(std::ostream& out) : previous(spdlog::default_logger()) {
      auto logger = std::make_shared<spdlog::logger>("", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
      logger->set_level(spdlog::level::info);
      spdlog::set_default_logger(logger);
    }
    ~Capture() { spdlog::set_default_logger(previous); }
    std::shared_ptr<spdlog::logger> previous;
  };
  std::optional<Capture> capture(std::in_place, log);
  auto ws = stack->Connect(ana);
  ASSERT_TRUE(ws.ok());
  ASSERT_TRUE((*ws)->SendText("{\"type\":\"join\",\"room\":" + std::to_string(room) + "}").ok());
  ASSERT_TRUE(ReceiveType(**ws, "joined").ok());
  constexpr int kSends = 20;
  for (int i = 0; i < kSends; ++i)
    ASSERT_TRUE((*ws)->SendText("{\"type\":\"send\",\"room\":" + std::to_string(room) + ",\"text\":\"lost " +
                                std::to_string(i) + "\",\"client_msg_id\":\"b" + std::to_string(i) + "\"}").ok());
  for (int i = 0; i < kSends; ++i) {
    auto reply = ReceiveUntil(**ws, [](const Json& j) { return j.Type() == "ack" || j.Type() == "error"; });
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_STREQ(reply->doc["code"].GetString(), "queue_unavailable") << reply->text;
  }
  capture.reset();
  int warnings = 0;
  for (std::string line; std::getline(log, line);) warnings += line.find("message_refused") != std::string::npos;
  // The refusals come within one timeout of each other: one second's line, or two if they straddle one.
  EXPECT_GE(warnings, 1);
  EXPECT_LE(warnings, 2);
}

// A placement Kafka does not take gives its cooldown back: the next one is refused by Kafka again, not
// held by the cooldown (as a placement Kafka took would be), over HTTP and over the socket.
TEST_F(FaultsTest, APlacementKafkaNeverConfirmsLeavesNoCooldown) {
  ASSERT_NO_FATAL_FAILURE(PrepareOnSilentKafka([](IngressConfig& c) { c.board.cooldown_ms = 60000; }));
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto put = stack->Call("PUT", "/api/board/pixels", ana, R"({"x":1,"y":1,"color":2})");
    ASSERT_TRUE(put.ok());
    EXPECT_EQ(put->status, 503) << "attempt " << attempt << ": " << put->body;
    EXPECT_NE(put->body.find("queue_unavailable"), std::string::npos) << put->body;
  }
  // Over the socket the same refusal is an error frame, and gives the cooldown back too.
  auto ws = stack->Connect(ana);
  ASSERT_TRUE(ws.ok());
  ASSERT_TRUE((*ws)->SendText(R"({"type":"place","x":1,"y":1,"color":2,"client_msg_id":"q-1"})").ok());
  auto reply = ReceiveUntil(**ws, [](const Json& j) { return j.Type() == "placed" || j.Type() == "error"; });
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  ASSERT_EQ(reply->Type(), "error") << reply->text;
  EXPECT_STREQ(reply->doc["code"].GetString(), "queue_unavailable");
  EXPECT_STREQ(reply->doc["client_msg_id"].GetString(), "q-1");
  // The refusal is answered only once the cooldown is given back.
  auto cooldown = stack->redis().Command({"EXISTS", BoardCooldownKey(stack->config().RedisPrefix(), ana.id)});
  ASSERT_TRUE(cooldown.ok());
  EXPECT_EQ(cooldown->integer, 0);
}

TEST_F(FaultsTest, PersisterRetriesWhilePostgresIsDownAndLosesNothing) {
  Prepare();
  RunOutage(/*cut_postgres=*/true);
}

TEST_F(FaultsTest, PersisterRetriesWhileRedisIsDownAndLosesNothing) {
  Prepare();
  RunOutage(/*cut_postgres=*/false);
}

TEST_F(FaultsTest, IngressThatLosesRedisCatchesItsClientsUpAfterwards) {
  // Ingress reaches Redis through a proxy the test cuts; the persister reaches it directly and keeps
  // publishing, so everything published meanwhile is missed by ingress and must come from history.
  TcpProxy proxy(stack->config().RedisShards()[0].host, stack->config().RedisShards()[0].port);
  ASSERT_TRUE(stack->StartIngress([&](IngressConfig& c) {
    c.common.redis_addr = "127.0.0.1:" + std::to_string(proxy.port());
  }).ok());
  ASSERT_TRUE(stack->StartPersister().ok());
  ASSERT_TRUE(RegisterWithRoom("ana", "general", &ana, &room));
  auto join = [&](WsClient& ws) {
    return ws.SendText("{\"type\":\"join\",\"room\":" + std::to_string(room) + "}");
  };
  auto early = stack->Connect(ana);
  ASSERT_TRUE(early.ok());
  ASSERT_TRUE(join(**early).ok());
  ASSERT_TRUE(ReceiveType(**early, "joined").ok());
  PostMessages(2, "before ");
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(ReceiveType(**early, "message").ok());

  proxy.Cut();
  // A join while Redis is away waits for the subscription; messages posted now are in Kafka, stored
  // and published, but this ingress hears none of them.
  auto late = stack->Connect(ana);
  ASSERT_TRUE(late.ok());
  ASSERT_TRUE(join(**late).ok());
  PostMessages(3, "during ");
  ASSERT_TRUE(WaitFor([&] { return stack->CountMessages(room).value_or(0) == 5; }));
  proxy.Restore();

  // Both clients get positions 3..5 exactly once, in order; the late one is told it joined first.
  auto late_joined = ReceiveType(**late, "joined", std::chrono::seconds(20));
  ASSERT_TRUE(late_joined.ok()) << late_joined.status().ToString();
  for (WsClient* ws : {early->get(), late->get()}) {
    int64_t want = ws == early->get() ? 3 : late_joined->doc["pos"].GetInt64() + 1;
    while (want <= 5) {
      auto m = ReceiveType(*ws, "message", std::chrono::seconds(20));
      ASSERT_TRUE(m.ok()) << m.status().ToString();
      EXPECT_EQ(m->doc["pos"].GetInt64(), want++);
    }
  }
  // Live traffic flows again, once.
  PostMessages(1, "after ");
  for (WsClient* ws : {early->get(), late->get()}) {
    auto m = ReceiveType(*ws, "message", std::chrono::seconds(20));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->doc["pos"].GetInt64(), 6);
  }
}

TEST_F(FaultsTest, PooledConnectionsPostgresEndedAreReplacedWithoutFailingARequest) {
  ASSERT_TRUE(stack->StartIngress([](IngressConfig& c) { c.db_threads = 2; }).ok());
  ASSERT_TRUE(RegisterWithRoom("ana", "general", &ana, &room));
  const std::string history = "/api/rooms/" + std::to_string(room) + "/messages?limit=50";  // past Redis: PostgreSQL
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(stack->Guest().ok());
  // What a PostgreSQL restart does to every pooled connection: the server ends the session.
  auto ended = stack->pg().Exec(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
      "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  ASSERT_TRUE(ended.ok()) << ended.status().ToString();
  ASSERT_GE(ended->Int(0, 0), 1);
  ASSERT_TRUE(WaitFor([&] {
    auto left = stack->pg().Exec(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
    return left.ok() && left->Int(0, 0) == 0;
  }));
  // The next reads and guest sign-ins all succeed, on fresh connections.
  for (int i = 0; i < 4; ++i) {
    auto guest = stack->Guest();
    EXPECT_TRUE(guest.ok()) << guest.status().ToString();
    auto read = stack->Call("GET", history, ana);
    ASSERT_TRUE(read.ok());
    EXPECT_EQ(read->status, 200) << read->body;
  }
}

TEST_F(FaultsTest, HistoryAfterAPersisterKilledMidStreamHoldsEveryAckedMessageOnce) {
  Prepare();
  ASSERT_TRUE(stack->StartWorkerProcess("persist").ok());
  std::set<std::string> acked = PostMessages(40, "first ");
  // Kill it once it has stored some (likely with a batch in flight, offsets uncommitted).
  ASSERT_TRUE(WaitFor([&] { return stack->CountMessages(room).value_or(0) >= 10; }, std::chrono::seconds(60)));
  stack->KillWorkerProcess("persist");
  auto more = PostMessages(40, "second ");
  acked.insert(more.begin(), more.end());
  ASSERT_TRUE(stack->StartWorkerProcess("persist").ok());
  ExpectStoredExactlyOnce(acked);
  ExpectHistoryIsTheLastTen(80);
  // And the API's history agrees: newest first, 80 down to 71.
  auto r = stack->Call("GET", "/api/rooms/" + std::to_string(room) + "/messages?limit=10", ana);
  ASSERT_TRUE(r.ok() && r->status == 200);
  auto body = ParseJson(r->body);
  ASSERT_TRUE(body.ok());
  int64_t want = 80;
  for (const auto& m : body->doc["messages"].GetArray()) EXPECT_EQ(m["pos"].GetInt64(), want--);
  EXPECT_EQ(want, 70);
}

}  // namespace
}  // namespace chatpipe::test
