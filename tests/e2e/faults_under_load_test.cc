// Faults under steady load. Each test runs PostgreSQL, Redis and Kafka of its own (PrivateServices: the
// suite's shared ones must stay up for the tests running beside it), chatpipe's ingress and persister as
// child processes, and WebSocket clients that send and listen the whole time; in the middle of it one
// service crashes (SIGKILL) and comes back, or a second persister joins the group and the first leaves,
// and meanwhile one listener drops its connection and makes a new one. chatpipe is never restarted. Afterwards: every acknowledged message is stored exactly once (never an
// ack without the message), positions run without a gap, every client got every stored message of its
// rooms once and in order, and every chatpipe process still runs.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "tests/support/http_client.h"
#include "tests/support/private_services.h"
#include "tests/support/stack.h"

namespace chatpipe::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kRooms = 2;
constexpr int kSenders = 4;    // sender i sends into room i % kRooms
constexpr int kListeners = 2;  // in every room, sending nothing
constexpr int kSendsPerSecond = 40;  // per sender: 160 messages a second in all
// Sends a client has unanswered at most (below ingress's --limit-sends-in-flight of 100): during an
// outage new messages queue in the client instead of being refused over and over.
constexpr int kWindow = 50;

// The refusals a client sends again unchanged (web/src/resend.ts, docs/protocol.md).
bool Resendable(const std::string& code) {
  return code == "queue_unavailable" || code == "unavailable" || code == "busy" || code == "not_joined" ||
         code == "rate_limited";
}

// One WebSocket user on a thread of its own. It is in every room and records each message frame; a
// sender also sends kSendsPerSecond messages into its room, each with a client_msg_id, and sends a
// refused one again unchanged as the web client does (500 ms doubling, or retry_after_ms), but without
// giving up: the test ends the load and waits for every message to be acknowledged. At most kWindow
// sends are unanswered at once; the rest wait their turn. A connection that
// drops is made again, joining each room after the last position seen; sends it left unanswered are
// sent again (stored once however often they are sent).
class Member {
 public:
  struct Message {
    int sends = 0;
    int acks = 0;
    std::string acked_id;
    bool in_flight = false;
  };

  // `tag` starts each client_msg_id of this member.
  Member(TestStack& stack, TestUser user, std::string tag, std::vector<int64_t> rooms, int64_t send_room,
         int per_second)
      : stack_(stack), user_(std::move(user)), tag_(std::move(tag)), rooms_(std::move(rooms)), send_room_(send_room),
        period_(per_second ? std::chrono::microseconds(1000000 / per_second) : std::chrono::microseconds(0)),
        sending_(per_second > 0) {
    for (int64_t r : rooms_) last_pos_[r] = 0;
  }
  ~Member() { Stop(); }

  void Start() { thread_ = std::thread([this] { Run(); }); }
  void StopSending() { sending_ = false; }
  // Drops the connection and makes a new one, as a client whose network blinked.
  void Reconnect() { reconnect_ = true; }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  // Sent and not acknowledged yet (refused ones waiting to go again included).
  int Unanswered() {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const auto& [id, m] : messages_) n += m.acked_id.empty();
    return n;
  }
  size_t Sent() {
    std::lock_guard lock(mu_);
    return messages_.size();
  }
  int64_t LastPos(int64_t room) {
    std::lock_guard lock(mu_);
    return last_pos_[room];
  }

  // Read after Stop.
  const std::map<std::string, Message>& messages() const { return messages_; }
  const std::map<int64_t, std::vector<std::string>>& delivered() const { return delivered_; }  // ids by pos - 1
  const std::map<std::string, int>& refusals() const { return refusals_; }
  const std::vector<std::string>& problems() const { return problems_; }
  const std::vector<std::string>& drops() const { return drops_; }  // why each connection ended
  int64_t user_id() const { return user_.id; }

 private:
  void Run() {
    auto next_new = Clock::now();
    int seq = 0;
    while (!stop_) {
      if (reconnect_.exchange(false) && ws_) Drop("reconnecting on purpose");
      if (join_refused_) {
        // A join refused while storage is away: join again on a new connection, after a client's backoff.
        join_refused_ = false;
        Drop("a join refused, storage away");
        std::this_thread::sleep_for(200ms);
      }
      if (!ws_ && !Connect()) {
        // A client's reconnect backoff, not a wait for an event.
        std::this_thread::sleep_for(200ms);
        continue;
      }
      auto now = Clock::now();
      {
        std::lock_guard lock(mu_);
        if (sending_ && now >= next_new) {
          std::string cmid = tag_ + "-" + std::to_string(++seq);
          messages_[cmid];
          due_.emplace(now, cmid);
          next_new += period_;
        }
        while (!due_.empty() && due_.begin()->first <= now && in_flight_ < kWindow) {
          std::string cmid = due_.begin()->second;
          due_.erase(due_.begin());
          Message& m = messages_[cmid];
          m.sends++;
          m.in_flight = true;
          in_flight_++;
          Status s = ws_->SendText("{\"type\":\"send\",\"room\":" + std::to_string(send_room_) + ",\"text\":\"load " +
                                   cmid + "\",\"client_msg_id\":\"" + cmid + "\"}");
          if (!s.ok()) break;  // the receive below sees the connection gone
        }
      }
      // Until the next send is due, at most 50 ms (so StopSending and Stop are seen).
      auto until = now + 50ms;
      {
        std::lock_guard lock(mu_);
        if (sending_) until = std::min(until, next_new);
        if (!due_.empty() && in_flight_ < kWindow) until = std::min(until, due_.begin()->first);
      }
      auto wait = std::max(1ms, std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()));
      auto text = ws_->ReceiveText(wait);
      if (!text.ok()) {
        if (text.status().name() == "timeout") continue;
        Drop("connection lost: " + text.status().ToString());
        continue;
      }
      auto frame = ParseJson(*text);
      if (!frame.ok()) {
        Problem("not JSON: " + *text);
        continue;
      }
      Handle(*frame);
    }
  }

  bool Connect() {
    auto ws = stack_.Connect(user_);
    if (!ws.ok()) return false;
    ws_ = std::move(*ws);
    std::lock_guard lock(mu_);
    for (int64_t r : rooms_)
      if (!ws_->SendText("{\"type\":\"join\",\"room\":" + std::to_string(r) + ",\"after\":" +
                         std::to_string(last_pos_[r]) + "}")
               .ok())
        return false;
    return true;
  }

  void Drop(const std::string& why) {
    ws_.reset();
    std::lock_guard lock(mu_);
    drops_.push_back(why);
    in_flight_ = 0;
    // Unanswered sends of the lost connection go again on the next one (after its joins: not_joined
    // otherwise, which is sent again too).
    for (auto& [cmid, m] : messages_)
      if (m.in_flight) {
        m.in_flight = false;
        due_.emplace(Clock::now(), cmid);
      }
  }

  void Handle(const Json& f) {
    const std::string type = f.Type();
    std::lock_guard lock(mu_);
    auto str = [&](const char* name) {
      return f.doc.HasMember(name) && f.doc[name].IsString() ? std::string(f.doc[name].GetString()) : "";
    };
    if (type == "message") {
      int64_t room = f.doc["room"].GetInt64(), pos = f.doc["pos"].GetInt64();
      int64_t& last = last_pos_[room];
      if (pos != last + 1)
        problems_.push_back("room " + std::to_string(room) + ": pos " + std::to_string(pos) + " after " +
                            std::to_string(last));
      if (pos > last) {
        last = pos;
        delivered_[room].resize(pos);
        delivered_[room][pos - 1] = str("id");
      }
    } else if (type == "ack") {
      auto it = messages_.find(str("client_msg_id"));
      if (it == messages_.end()) return problems_.push_back("ack of an unknown message: " + f.text);
      Message& m = it->second;
      in_flight_ -= m.in_flight;
      m.in_flight = false;
      if (m.acks++ == 0) m.acked_id = str("id");
    } else if (type == "error") {
      std::string code = str("code"), cmid = str("client_msg_id");
      auto it = messages_.find(cmid);
      if (it == messages_.end() && Resendable(code)) {
        join_refused_ = true;  // an error without a client_msg_id answers a join
        return;
      }
      if (it == messages_.end()) return problems_.push_back("error: " + f.text);
      refusals_[code]++;
      Message& m = it->second;
      in_flight_ -= m.in_flight;
      m.in_flight = false;
      if (!Resendable(code)) return problems_.push_back("refused for good: " + f.text);
      int64_t after_ms = f.doc.HasMember("retry_after_ms") ? f.doc["retry_after_ms"].GetInt64()
                                                           : std::min<int64_t>(500 << std::min(m.sends - 1, 3), 4000);
      due_.emplace(Clock::now() + std::chrono::milliseconds(after_ms), cmid);
    }
  }

  void Problem(const std::string& what) {
    std::lock_guard lock(mu_);
    problems_.push_back(what);
  }

  TestStack& stack_;
  const TestUser user_;
  const std::string tag_;
  const std::vector<int64_t> rooms_;
  const int64_t send_room_;
  const std::chrono::microseconds period_;
  std::atomic<bool> sending_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> reconnect_{false};
  std::thread thread_;
  std::unique_ptr<WsClient> ws_;  // the thread's alone
  bool join_refused_ = false;     // the thread's alone: set by Handle, acted on by Run

  std::mutex mu_;  // guards what follows
  std::map<std::string, Message> messages_;             // by client_msg_id
  std::multimap<Clock::time_point, std::string> due_;  // client_msg_ids to send (again), by when
  std::map<int64_t, int64_t> last_pos_;
  std::map<int64_t, std::vector<std::string>> delivered_;
  std::map<std::string, int> refusals_;
  int in_flight_ = 0;
  std::vector<std::string> problems_;
  std::vector<std::string> drops_;
};

class FaultsUnderLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto services = PrivateServices::Start();
    ASSERT_TRUE(services.ok()) << services.status().ToString();
    services_ = std::move(*services);
    auto stack = TestStack::Create(4, &services_->addresses());
    ASSERT_TRUE(stack.ok()) << stack.status().ToString();
    stack_ = std::move(*stack);
    // The load is the test's: no per-connection or per-user send limit in the way.
    std::vector<std::string> ingress_args = {"--limit-sends-per-connection", "off", "--limit-sends-per-user", "off"};
    ingress_args.insert(ingress_args.end(), extra_ingress_args_.begin(), extra_ingress_args_.end());
    Status ingress = stack_->StartIngressProcess(ingress_args);
    ASSERT_TRUE(ingress.ok()) << ingress.ToString();
    ASSERT_NO_FATAL_FAILURE(StartPersister());
    auto owner = stack_->Register("owner");
    ASSERT_TRUE(owner.ok()) << owner.status().ToString();
    for (int r = 0; r < kRooms; ++r) {
      auto room = stack_->CreateRoom(*owner, "room" + std::to_string(r));
      ASSERT_TRUE(room.ok()) << room.status().ToString();
      rooms_.push_back(*room);
    }
    // Guests: no password to hash for each.
    for (int i = 0; i < kSenders + kListeners; ++i) {
      auto user = stack_->Guest();
      ASSERT_TRUE(user.ok()) << user.status().ToString();
      bool sends = i < kSenders;
      members_.push_back(std::make_unique<Member>(*stack_, *user, "c" + std::to_string(i), rooms_,
                                                  rooms_[i % kRooms], sends ? kSendsPerSecond : 0));
    }
  }

  void TearDown() override {
    for (auto& m : members_) m->Stop();
  }

  void StartPersister(const std::vector<std::string>& extra = {}) {
    auto child = ChildProcess::Spawn(stack_->WorkerProcessArgs("persist", extra));
    ASSERT_TRUE(child.ok()) << child.status().ToString();
    persisters_.push_back(std::move(*child));
  }

  // `service` SIGKILLed, a listener reconnecting while it is away, and after `away` (the fault's
  // shape, not a wait for an event) started again.
  void Crash(const std::string& service, std::chrono::seconds away) {
    Status killed = services_->Kill(service);
    ASSERT_TRUE(killed.ok()) << killed.ToString();
    members_.back()->Reconnect();
    std::this_thread::sleep_for(away);
    Status up = services_->Start(service);
    ASSERT_TRUE(up.ok()) << up.ToString();
  }

  // Events a persister serving /metrics on `port` applied; -1 when it cannot be read.
  static int64_t EventsApplied(int port) {
    auto r = HttpRequest("GET", "http://127.0.0.1:" + std::to_string(port) + "/metrics");
    const std::string series = "chatpipe_worker_events_total{worker=\"persist\"} ";
    size_t at = r.ok() ? r->body.find(series) : std::string::npos;
    return at == std::string::npos ? -1 : std::strtoll(r->body.c_str() + at + series.size(), nullptr, 10);
  }

  // Stored messages in all rooms; 0 while PostgreSQL is away.
  int64_t Stored() {
    auto r = stack_->pg().Exec("SELECT count(*) FROM messages");
    return r.ok() ? r->Int(0, 0) : 0;
  }

  // The load starts, `fault` happens once messages flow, the load goes on until the stack has stored
  // plenty more, then stops; then every promise is checked.
  void RunWithFault(const std::function<void()>& fault) {
    const auto t0 = Clock::now();
    for (auto& m : members_) m->Start();
    ASSERT_TRUE(WaitFor([&] { return Stored() >= 200; }, 60s)) << "the load is not being stored";
    const auto fault_at = Clock::now();
    fault();
    if (HasFatalFailure()) return;
    const auto fault_done = Clock::now();
    // Recovered by itself: messages sent from now on are stored (the load goes on meanwhile).
    const int64_t stored = Stored();
    ASSERT_TRUE(WaitFor([&] { return Stored() >= stored + 400; }, 60s))
        << "nothing stored after the fault: " << Stored() << " rows";
    for (auto& m : members_) m->StopSending();
    // Every message sent is acknowledged in the end (the refused ones sent again).
    ASSERT_TRUE(WaitFor([&] {
      for (auto& m : members_)
        if (m->Unanswered() > 0) return false;
      return true;
    }, 60s)) << "messages left unacknowledged";
    int64_t sent = 0;
    for (int i = 0; i < kSenders; ++i) sent += static_cast<int64_t>(members_[i]->Sent());
    // (On failure the checks below name what is missing.)
    EXPECT_TRUE(WaitFor([&] { return Stored() >= sent; }, 60s)) << Stored() << " of " << sent << " stored";
    // Every client reaches each room's head.
    std::map<int64_t, int64_t> head;
    for (int64_t room : rooms_) {
      auto r = stack_->pg().Exec("SELECT coalesce(max(pos), 0) FROM messages WHERE room_id = $1",
                                 {std::to_string(room)});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      head[room] = r->Int(0, 0);
    }
    EXPECT_TRUE(WaitFor([&] {
      for (auto& m : members_)
        for (int64_t room : rooms_)
          if (m->LastPos(room) < head[room]) return false;
      return true;
    }, 30s)) << "a client is missing messages";
    for (auto& m : members_) m->Stop();

    EXPECT_FALSE(members_.back()->drops().empty()) << "the listener never reconnected";
    for (const auto& p : persisters_) EXPECT_TRUE(p->Running()) << "a persister exited";
    EXPECT_TRUE(stack_->ingress_process()->Running()) << "ingress exited";
    ExpectEveryPromiseKept();

    std::map<std::string, int> refusals;
    int64_t sends = 0, reconnects = 0;
    for (auto& m : members_) {
      for (const auto& [code, n] : m->refusals()) refusals[code] += n;
      for (const auto& [cmid, msg] : m->messages()) sends += msg.sends;
      for (const auto& why : m->drops()) std::printf("[ load     ] client %lld: %s\n", static_cast<long long>(m->user_id()), why.c_str());
      reconnects += static_cast<int64_t>(m->drops().size());
    }
    std::string refused;
    for (const auto& [code, n] : refusals) refused += " " + code + "=" + std::to_string(n);
    auto secs = [](Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count() / 1000.0; };
    std::printf("[ load     ] %lld messages (%lld sends), refused:%s; reconnects %lld; fault %.1f s, whole run %.1f s\n",
                static_cast<long long>(sent), static_cast<long long>(sends), refused.empty() ? " none" : refused.c_str(),
                static_cast<long long>(reconnects), secs(fault_done - fault_at), secs(Clock::now() - t0));
  }

  void ExpectEveryPromiseKept() {
    // Stored: positions 1..n in each room, and one row per (user, client_msg_id).
    std::map<std::pair<int64_t, std::string>, std::string> stored;  // (user, client_msg_id) -> id
    std::map<int64_t, std::vector<std::string>> by_room;            // ids by pos - 1
    for (int64_t room : rooms_) {
      auto rows = stack_->pg().Exec("SELECT id, pos, user_id, client_msg_id FROM messages WHERE room_id = $1 ORDER BY pos",
                                    {std::to_string(room)});
      ASSERT_TRUE(rows.ok()) << rows.status().ToString();
      for (int i = 0; i < rows->rows(); ++i) {
        EXPECT_EQ(rows->Int(i, 1), i + 1) << "room " << room << ": a gap in the positions";
        by_room[room].emplace_back(rows->Text(i, 0));
        bool first = stored.emplace(std::pair(rows->Int(i, 2), std::string(rows->Text(i, 3))), std::string(rows->Text(i, 0))).second;
        EXPECT_TRUE(first) << "stored twice: " << rows->Text(i, 3);
      }
    }
    // Every acknowledged message is stored (never a false ack), and nothing else is.
    size_t acked = 0;
    int other_id = 0;
    for (int i = 0; i < kSenders; ++i) {
      const Member& m = *members_[i];
      for (const auto& [cmid, msg] : m.messages()) {
        EXPECT_EQ(msg.acks, 1) << cmid << " acknowledged " << msg.acks << " times";
        if (msg.acked_id.empty()) continue;
        acked++;
        auto it = stored.find({m.user_id(), cmid});
        if (it == stored.end()) {
          ADD_FAILURE() << "acknowledged, never stored: " << cmid;
          continue;
        }
        // A send refused (a Kafka timeout) can still have reached the log: the first one stored wins.
        other_id += it->second != msg.acked_id;
      }
    }
    EXPECT_EQ(stored.size(), acked) << "stored messages no client sent, or never acknowledged";
    if (other_id) std::printf("[ load     ] %d messages stored under the id of an earlier, refused send\n", other_id);
    // Every client got each room's stored messages, each once, in order.
    for (auto& m : members_) {
      for (const auto& p : m->problems()) ADD_FAILURE() << "client " << m->user_id() << ": " << p;
      for (int64_t room : rooms_) {
        auto it = m->delivered().find(room);
        EXPECT_TRUE(it != m->delivered().end() && it->second == by_room[room])
            << "client " << m->user_id() << " got other messages in room " << room;
      }
    }
  }

  // Sends refused with `code`, over every member.
  int Refusals(const std::string& code) const {
    int n = 0;
    for (const auto& m : members_) {
      auto it = m->refusals().find(code);
      if (it != m->refusals().end()) n += it->second;
    }
    return n;
  }

  std::vector<std::string> extra_ingress_args_;  // set by a fixture's constructor
  std::unique_ptr<PrivateServices> services_;  // first: stopped after everything that uses them
  std::unique_ptr<TestStack> stack_;
  std::vector<std::unique_ptr<ChildProcess>> persisters_;
  std::vector<int64_t> rooms_;
  std::vector<std::unique_ptr<Member>> members_;
};

// The broker stays away 3 s before it is started again; its start takes 6-12 s more here, often past
// the Kafka timeout (10 s), so the sends then in flight may be refused and sent again.
TEST_F(FaultsUnderLoadTest, KafkaBrokerKilledAndRestarted) {
  RunWithFault([&] { Crash("kafka", 3s); });
}

// With a Kafka timeout longer than the broker's absence and restart, the same crash only delays sends:
// none is refused, and each is acknowledged once it is in the log.
class KafkaTimeoutOutlastsTheRestartTest : public FaultsUnderLoadTest {
 protected:
  KafkaTimeoutOutlastsTheRestartTest() { extra_ingress_args_ = {"--kafka-timeout-ms", "90000"}; }
};

TEST_F(KafkaTimeoutOutlastsTheRestartTest, ABrokerBackWithinTheTimeoutOnlyDelaysSends) {
  RunWithFault([&] { Crash("kafka", 3s); });
  EXPECT_EQ(Refusals("queue_unavailable"), 0);
  EXPECT_EQ(Refusals("unavailable"), 0);
}

TEST_F(FaultsUnderLoadTest, RedisKilledAndRestarted) {
  RunWithFault([&] { Crash("redis", 2s); });
}

// The whole server: the postmaster and its backends.
TEST_F(FaultsUnderLoadTest, PostgresKilledAndRestarted) {
  RunWithFault([&] { Crash("postgresql", 3s); });
}

TEST_F(FaultsUnderLoadTest, PersistersRebalance) {
  RunWithFault([&] {
    // A second persister joins the group mid-stream, takes partitions and stores part of the load.
    const int port = FreeLoopbackPort();
    ASSERT_NO_FATAL_FAILURE(StartPersister({"--status-port", std::to_string(port)}));
    ASSERT_TRUE(WaitFor([&] { return EventsApplied(port) > 0; }, 60s)) << "the second persister got no partition";
    // Then the first leaves (SIGTERM: it commits what it stored and leaves the group), and the second
    // takes every partition: it alone stores from now on.
    members_.back()->Reconnect();  // a listener reconnects while the group rebalances
    persisters_.front()->Signal(SIGTERM);
    EXPECT_EQ(persisters_.front()->Wait(30s), 0);
    persisters_.erase(persisters_.begin());
    const int64_t applied = EventsApplied(port);
    ASSERT_TRUE(WaitFor([&] { return EventsApplied(port) >= applied + 400; }, 60s));
  });
}

}  // namespace
}  // namespace chatpipe::test
