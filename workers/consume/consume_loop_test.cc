// The consume loop against the real Kafka and PostgreSQL: a toy worker whose events are numbers, stored
// in a table that refuses 13 (a CHECK constraint), so every outcome comes from the real services.
#include "workers/consume/consume_loop.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "queue/kafka_admin.h"
#include "tests/support/wait.h"
#include "tests/support/worker_env.h"

namespace chatpipe {
namespace {

using namespace std::chrono_literals;
using test::WaitFor;

struct Number {
  int64_t n = 0;
};

Result<Number> DecodeNumber(const KafkaMessage& m) {
  Number out;
  auto [end, err] = std::from_chars(m.payload.data(), m.payload.data() + m.payload.size(), out.n);
  if (err != std::errc() || end != m.payload.data() + m.payload.size())
    return Status::InvalidArgument("bad_number", "not a number: " + m.payload);
  return out;
}

// A dead letter's header, "" when it has none.
std::string Header(const KafkaMessage& m, const std::string& name) {
  for (const auto& [k, v] : m.headers)
    if (k == name) return v;
  return "";
}

// A loopback port nothing listens on.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

class ConsumeLoopTest : public test::WorkerEnvTest {
 protected:
  void SetUp() override {
    WorkerEnvTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(env_->pg().ExecScript("CREATE TABLE consumed (n bigint PRIMARY KEY CHECK (n <> 13))").ok());
    pg_ = std::make_unique<PgConn>(env_->config().pg_conninfo);
  }

  // A loop of the toy worker `worker` (also its group) that stores each batch in one statement and
  // remembers what every attempt was given.
  std::unique_ptr<ConsumeLoop<Number>> MakeLoop(const std::string& worker, std::string dead_letter_brokers = "",
                                                std::chrono::milliseconds gather = 0ms) {
    return std::make_unique<ConsumeLoop<Number>>(
        env_->config(), ConsumeOptions{worker, worker, {kMessagesTopic}, 100, std::move(dead_letter_brokers), {}, gather},
        DecodeNumber, [this](const std::vector<Number>& batch) { return Store(batch); });
  }

  Status Store(const std::vector<Number>& batch) {
    std::string array = "{";
    for (const auto& e : batch) array += (array.size() > 1 ? "," : "") + std::to_string(e.n);
    {
      std::lock_guard<std::mutex> lock(mu_);
      attempts_.push_back(array + "}");
    }
    return pg_->Exec("INSERT INTO consumed SELECT unnest($1::bigint[]) ON CONFLICT DO NOTHING", {array + "}"})
        .status();
  }

  std::vector<std::string> Attempts() {
    std::lock_guard<std::mutex> lock(mu_);
    return attempts_;
  }

  int64_t Stored() { return env_->QueryInt("SELECT count(*) FROM consumed").value_or(-1); }

  // What a new member of `group` is handed: every message from the group's committed offsets on, up
  // to a sentinel produced now under each of the `keys` used (a key keeps to one partition, so whatever
  // arrives before its sentinels is all that was left).
  std::vector<std::string> LeftInGroup(const std::string& group, const std::vector<std::string>& keys) {
    for (const auto& key : keys) EXPECT_TRUE(env_->ProduceRaw(key, "sentinel").ok());
    const CommonConfig& c = env_->config();
    auto consumer = BatchConsumer::Create(c.kafka_brokers, c.Group(group), {c.Topic(kMessagesTopic)});
    EXPECT_TRUE(consumer.ok());
    std::vector<std::string> left;
    size_t sentinels = 0;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      for (const auto& m : (*consumer)->Poll(100, 100ms)) {
        if (m.payload != "sentinel")
          left.push_back(m.payload);
        else if (++sentinels == keys.size())
          return left;
      }
    }
    ADD_FAILURE() << "the sentinel never arrived";
    return left;
  }

  // Where the messages with these keys are on chat.messages: key -> (partition, offset).
  std::map<std::string, std::pair<int32_t, int64_t>> Positions(const std::vector<std::string>& keys) {
    std::map<std::string, std::pair<int32_t, int64_t>> out;
    auto all = ReadTopic(env_->config().kafka_brokers, env_->config().Topic(kMessagesTopic));
    EXPECT_TRUE(all.ok()) << all.status().ToString();
    if (!all.ok()) return out;
    for (const auto& m : *all)
      if (std::find(keys.begin(), keys.end(), m.key) != keys.end()) out[m.key] = {m.partition, m.offset};
    return out;
  }

  std::unique_ptr<PgConn> pg_;  // the toy worker's, used on the loop's thread
  std::mutex mu_;
  std::vector<std::string> attempts_;
};

TEST_F(ConsumeLoopTest, RefusedEventsAreDeadLetteredAsTheyCameAndTheRestIsCommitted) {
  WorkerMetrics metrics = WorkerMetrics::For("refusing");
  const int64_t dead_before = metrics.dead_letters.value();
  for (auto [key, payload] : {std::pair{"a", "1"}, {"b", "{oops"}, {"c", "13"}, {"d", "2"}})
    ASSERT_TRUE(env_->ProduceRaw(key, payload).ok());
  auto loop = MakeLoop("refusing");
  ASSERT_TRUE(loop->Start().ok());
  {
    test::WorkerThread running([&](const std::atomic<bool>& stop) { loop->Run(stop); });
    ASSERT_TRUE(WaitFor([&] { return Stored() == 2 && metrics.dead_letters.value() == dead_before + 2; }));
  }
  auto read = ReadTopic(env_->config().kafka_brokers, env_->config().Topic(kDeadLetterTopic));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  std::vector<KafkaMessage> letters = *read;
  ASSERT_EQ(letters.size(), 2u);
  std::sort(letters.begin(), letters.end(), [](const auto& x, const auto& y) { return x.key < y.key; });
  EXPECT_EQ(letters[0].key, "b");
  EXPECT_EQ(letters[0].payload, "{oops");
  EXPECT_EQ(Header(letters[0], "reason"), "not a number: {oops");
  EXPECT_EQ(letters[1].key, "c");
  EXPECT_EQ(letters[1].payload, "13");
  EXPECT_NE(Header(letters[1], "reason").find("23514"), std::string::npos);  // check_violation
  // Each says where its message is, for the operator to find (and replay) it.
  std::map<std::string, std::pair<int32_t, int64_t>> where = Positions({"b", "c"});
  for (const auto& l : letters) {
    EXPECT_EQ(Header(l, "source"), "refusing");
    EXPECT_EQ(Header(l, "topic"), env_->config().Topic(kMessagesTopic));
    EXPECT_EQ(Header(l, "partition"), std::to_string(where[l.key].first)) << l.key;
    EXPECT_EQ(Header(l, "offset"), std::to_string(where[l.key].second)) << l.key;
  }
  EXPECT_EQ(*env_->QueryInt("SELECT sum(n) FROM consumed"), 3);
  EXPECT_EQ(LeftInGroup("refusing", {"a", "b", "c", "d"}), std::vector<std::string>{});
}

// A refused message near Kafka's size limit, whose reason quotes all of it, still goes to the
// dead-letter topic: cut to fit and marked so. Whole, the letter would be refused by the producer
// forever and the loop would never get past it.
TEST_F(ConsumeLoopTest, ARefusedMessageTooLargeToDeadLetterWholeIsCutAndTheLoopGoesOn) {
  WorkerMetrics metrics = WorkerMetrics::For("cutting");
  const int64_t dead_before = metrics.dead_letters.value();
  const std::string huge(999'000, 'x');  // not a number: DecodeNumber's reason quotes it
  ASSERT_TRUE(env_->ProduceRaw("k", huge).ok());
  ASSERT_TRUE(env_->ProduceRaw("k", "7").ok());
  auto loop = MakeLoop("cutting");
  ASSERT_TRUE(loop->Start().ok());
  {
    test::WorkerThread running([&](const std::atomic<bool>& stop) { loop->Run(stop); });
    ASSERT_TRUE(WaitFor([&] { return Stored() == 1 && metrics.dead_letters.value() == dead_before + 1; }));
  }
  auto read = ReadTopic(env_->config().kafka_brokers, env_->config().Topic(kDeadLetterTopic));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), 1u);
  const KafkaMessage& letter = (*read)[0];
  EXPECT_EQ(letter.key, "k");
  EXPECT_EQ(letter.payload, huge.substr(0, letter.payload.size()));
  EXPECT_LT(letter.payload.size(), huge.size());
  EXPECT_EQ(Header(letter, "truncated_from"), "1,999000");
  EXPECT_LE(Header(letter, "reason").size(), 4096u);
  EXPECT_EQ(Header(letter, "reason").rfind("not a number: xxx", 0), 0u);
  EXPECT_EQ(LeftInGroup("cutting", {"k"}), std::vector<std::string>{});
}

// A batch refused as a whole goes one event at a time; when a passing failure (PostgreSQL away)
// stops that midway, the retry resumes where it stopped: the refused event before it is dead-lettered
// once, not again on every retry for as long as the failure lasts.
TEST_F(ConsumeLoopTest, ARetryAfterAPassingFailureMidwayDoesNotDeadLetterTheRefusedEventAgain) {
  WorkerMetrics metrics = WorkerMetrics::For("resuming");
  const int64_t dead_before = metrics.dead_letters.value();
  for (const char* n : {"13", "99"}) ASSERT_TRUE(env_->ProduceRaw("one-partition", n).ok());
  std::atomic<int> away{3};  // 99 alone meets a database that is away three times
  ConsumeLoop<Number> loop(env_->config(), ConsumeOptions{"resuming", "resuming", {kMessagesTopic}, 100}, DecodeNumber,
                           [&](const std::vector<Number>& batch) {
                             if (batch.size() == 1 && batch[0].n == 99 && away.fetch_sub(1) > 0)
                               return Status::Unavailable("db_unavailable", "PostgreSQL is away (the test's)");
                             return Store(batch);
                           });
  ASSERT_TRUE(loop.Start().ok());
  {
    test::WorkerThread running([&](const std::atomic<bool>& stop) { loop.Run(stop); });
    ASSERT_TRUE(WaitFor([&] { return Stored() == 1; }));
  }
  EXPECT_EQ(*env_->QueryInt("SELECT sum(n) FROM consumed"), 99);
  EXPECT_EQ(metrics.dead_letters.value(), dead_before + 1);
  auto read = ReadTopic(env_->config().kafka_brokers, env_->config().Topic(kDeadLetterTopic));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ((*read)[0].payload, "13");
  EXPECT_EQ(Attempts().front(), "{13,99}") << "the two came as one batch";
}

// A gathering loop (the tag worker's) applies what arrives within its window after a batch's first
// event as one batch. The second event is produced 200 ms after the first: that spacing is what the
// test is about, and without the window the two are applied apart.
TEST_F(ConsumeLoopTest, AGatheringLoopAppliesEventsArrivingWithinItsWindowAsOneBatch) {
  auto loop = MakeLoop("gathering", "", 3s);
  ASSERT_TRUE(loop->Start().ok());
  test::WorkerThread running([&](const std::atomic<bool>& stop) { loop->Run(stop); });
  ASSERT_TRUE(WaitFor([&] { return loop->CheckKafka(1s).ok(); }));
  ASSERT_TRUE(env_->ProduceRaw("one-partition", "1").ok());
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(env_->ProduceRaw("one-partition", "2").ok());
  ASSERT_TRUE(WaitFor([&] { return Stored() == 2; }));
  EXPECT_EQ(Attempts(), std::vector<std::string>{"{1,2}"});
}

TEST_F(ConsumeLoopTest, ARetriableFailureRetriesTheSameBatchAndCommitsNothingUntilItSucceeds) {
  WorkerMetrics metrics = WorkerMetrics::For("retrying");
  ASSERT_TRUE(env_->AllowConnections(false).ok());
  for (const char* n : {"1", "2", "3"}) ASSERT_TRUE(env_->ProduceRaw("one-partition", n).ok());
  {
    auto loop = MakeLoop("retrying");
    ASSERT_TRUE(loop->Start().ok());
    const int64_t retries_before = metrics.retries.value();
    test::WorkerThread running([&](const std::atomic<bool>& stop) { loop->Run(stop); });
    ASSERT_TRUE(WaitFor([&] { return metrics.retries.value() >= retries_before + 3; }));
    EXPECT_TRUE(WaitFor([&] { return metrics.lag.value() == 3; })) << "lag " << metrics.lag.value();
  }  // stopped while PostgreSQL is down: nothing may have been committed
  for (const auto& a : Attempts()) EXPECT_EQ(a, "{1,2,3}");
  EXPECT_EQ(LeftInGroup("retrying", {"one-partition"}), (std::vector<std::string>{"1", "2", "3"}));

  auto loop = MakeLoop("retrying");
  ASSERT_TRUE(loop->Start().ok());
  const size_t attempts_before = Attempts().size();
  test::WorkerThread running([&](const std::atomic<bool>& stop) { loop->Run(stop); });
  ASSERT_TRUE(WaitFor([&] { return Attempts().size() >= attempts_before + 2; }));  // down still: retrying
  ASSERT_TRUE(env_->AllowConnections(true).ok());
  ASSERT_TRUE(WaitFor([&] { return Stored() == 3; }));
  EXPECT_TRUE(WaitFor([&] { return metrics.lag.value() == 0; })) << "lag " << metrics.lag.value();
  for (const auto& a : Attempts()) EXPECT_EQ(a, "{1,2,3}");  // the batch, never split
  EXPECT_EQ(*env_->QueryInt("SELECT sum(n) FROM consumed"), 6);
}

TEST_F(ConsumeLoopTest, StopWhileTheDeadLetterTopicIsUnreachableReturnsSoonAndStoresNothing) {
  std::atomic<bool> decoded_bad{false};
  for (auto [key, payload] : {std::pair{"a", "x"}, {"a", "1"}}) ASSERT_TRUE(env_->ProduceRaw(key, payload).ok());
  ConsumeLoop<Number> loop(
      env_->config(), {"stranded", "stranded", {kMessagesTopic}, 100, "127.0.0.1:" + std::to_string(ClosedPort())},
      [&](const KafkaMessage& m) {
        if (m.payload == "x") decoded_bad = true;
        return DecodeNumber(m);
      },
      [](const std::vector<Number>&) { return Status::Ok(); });
  ASSERT_TRUE(loop.Start().ok());
  std::atomic<bool> stop{false};
  std::promise<void> returned;
  std::thread run([&] {
    loop.Run(stop);
    returned.set_value();
  });
  ASSERT_TRUE(WaitFor([&] { return decoded_bad.load(); }));  // now dead-lettering "x", which cannot go out
  const auto asked = std::chrono::steady_clock::now();
  stop = true;
  const bool in_time = returned.get_future().wait_for(5s) == std::future_status::ready;
  run.join();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - asked);
  EXPECT_TRUE(in_time) << "Run() took " << took.count() << " ms to stop";
  EXPECT_EQ(LeftInGroup("stranded", {"a"}), (std::vector<std::string>{"x", "1"}));
}

// A stop (SIGTERM) that comes while a batch is being applied: the batch is finished, its offsets are
// committed and the member leaves its group at once (rd_kafka_consumer_close), so its partitions move
// to the next member now, not after the session timeout, and nothing is redone or lost.
TEST_F(ConsumeLoopTest, AStopDuringABatchFinishesItCommitsItAndLeavesTheGroup) {
  const std::vector<std::string> all{"1", "2", "3"};
  for (const auto& n : all) ASSERT_TRUE(env_->ProduceRaw("one-partition", n).ok());
  auto admin = KafkaAdmin::Create(env_->config().kafka_brokers, 30s);
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  std::promise<void> entered, release, returned;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> first{true};
  ConsumeLoop<Number> loop(env_->config(), {"stopping", "stopping", {kMessagesTopic}, 100}, DecodeNumber,
                           [&](const std::vector<Number>& batch) {
                             if (first.exchange(false)) {
                               entered.set_value();
                               released.wait_for(30s);  // bounded, should the test fail first
                             }
                             return Store(batch);
                           });
  ASSERT_TRUE(loop.Start().ok());
  std::atomic<bool> stop{false};
  std::thread run([&] {
    loop.Run(stop);
    returned.set_value();
  });
  // Nothing may leave this block early: the loop is stopped and joined whatever happens.
  const bool applying = entered.get_future().wait_for(30s) == std::future_status::ready;
  auto before = (*admin)->DescribeGroup(env_->config().Group("stopping"));
  stop = true;
  release.set_value();
  const bool in_time = returned.get_future().wait_for(30s) == std::future_status::ready;
  run.join();
  ASSERT_TRUE(applying) << "no batch was applied";
  ASSERT_TRUE(in_time) << "Run() did not return after stop";
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(before->members.size(), 1u);
  // Left at once: no member is listed (one that vanished without a word stays for the 10-s session).
  auto after = (*admin)->DescribeGroup(env_->config().Group("stopping"));
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_TRUE(after->members.empty()) << after->members.size() << " member(s), state " << after->state;
  // The batch in hand when stop came was applied in full and committed, and no other was begun: a new
  // member is handed only what came after it. One partition: the batch is 1, 2, 3 or a start of it.
  const std::vector<std::string> attempts = Attempts();
  ASSERT_EQ(attempts.size(), 1u);
  auto first_ones = [&](size_t k) {
    std::string out = "{";
    for (size_t i = 0; i < k; ++i) out += (i ? "," : "") + all[i];
    return out + "}";
  };
  size_t n = 1;
  while (n < all.size() && attempts[0] != first_ones(n)) ++n;
  ASSERT_EQ(attempts[0], first_ones(n));
  EXPECT_EQ(Stored(), static_cast<int64_t>(n));
  EXPECT_EQ(LeftInGroup("stopping", {"one-partition"}), std::vector<std::string>(all.begin() + n, all.end()));
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A time after everything produced so far and before anything produced next: the clock has passed it.
int64_t Boundary() {
  const int64_t t = NowMs() + 1;
  EXPECT_TRUE(WaitFor([&] { return NowMs() > t; }, 1s));
  return t;
}

// A range run: a fresh group starts at the offsets of `from` and the loop ends by itself past those of
// `to`, having applied exactly the events in between and committed them; run again, it has nothing to do.
TEST_F(ConsumeLoopTest, ARangeRunAppliesTheEventsBetweenFromAndToThenEnds) {
  for (auto [key, payload] : {std::pair{"a", "1"}, {"b", "2"}}) ASSERT_TRUE(env_->ProduceRaw(key, payload).ok());
  const int64_t from = Boundary();
  for (auto [key, payload] : {std::pair{"a", "3"}, {"b", "4"}, {"c", "5"}}) ASSERT_TRUE(env_->ProduceRaw(key, payload).ok());
  const int64_t to = Boundary();
  for (auto [key, payload] : {std::pair{"a", "6"}, {"c", "7"}}) ASSERT_TRUE(env_->ProduceRaw(key, payload).ok());

  auto run = [&] {
    ConsumeOptions options{"ranged", "range-1", {kMessagesTopic}, 100};
    options.range = {from, to};
    ConsumeLoop<Number> loop(env_->config(), options, DecodeNumber,
                             [this](const std::vector<Number>& batch) { return Store(batch); });
    EXPECT_TRUE(loop.Start().ok());
    std::atomic<bool> stop{false};
    auto ended = std::async(std::launch::async, [&] { loop.Run(stop); });
    const bool by_itself = ended.wait_for(30s) == std::future_status::ready;
    stop = true;
    ended.wait();
    EXPECT_TRUE(by_itself) << "the range run did not end by itself";
    EXPECT_TRUE(loop.RangeDone());
  };
  run();
  auto stored = env_->pg().Exec("SELECT string_agg(n::text, ',' ORDER BY n) FROM consumed");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(std::string(stored->Text(0, 0)), "3,4,5");
  // What the group committed is the end of the range: a new member would be handed 6 and 7 only.
  auto left = LeftInGroup("range-1", {"a", "b", "c"});
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"6", "7"}));
  const size_t attempts = Attempts().size();
  run();  // resumes at the committed end: nothing to apply
  EXPECT_EQ(Attempts().size(), attempts);
}

}  // namespace
}  // namespace chatpipe
