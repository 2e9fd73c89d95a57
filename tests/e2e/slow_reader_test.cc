// Readers that stop reading. A WebSocket's output is corked and written once per loop iteration; what
// its socket does not take stays in the ingress until the socket drains (then it is corked again),
// and a reader further behind than --max-output is closed (4002) while the rest of the room carries on.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "common/metrics.h"
#include "tests/support/stack_test_base.h"

namespace chatpipe::test {
namespace {

constexpr size_t kTextBytes = 3000;

// The n-th figure of a /proc/sys/net/ipv4/tcp_[rw]mem line (min, default, max).
size_t TcpMem(const char* file, int n) {
  std::ifstream in(std::string("/proc/sys/net/ipv4/") + file);
  size_t v[3] = {4096, 131072, 4194304};  // Linux's defaults, if the file cannot be read
  in >> v[0] >> v[1] >> v[2];
  return v[n];
}

// More than the kernel holds for a reader that stopped: the server's send buffer at its largest and
// the reader's receive buffer as it starts (it only grows as the reader reads), plus 1 MiB. The rest
// must wait in the ingress itself.
const int kMessages =
    static_cast<int>((TcpMem("tcp_wmem", 2) + TcpMem("tcp_rmem", 1) + (1 << 20)) / kTextBytes) + 1;

std::string Text(int i) {
  std::string t = "m" + std::to_string(i) + " ";
  t.append(kTextBytes - t.size(), 'x');
  return t;
}

class SlowReaderTest : public StackTest {
 protected:
  void Start(size_t max_output) {
    ASSERT_TRUE(stack->StartIngress([max_output](IngressConfig& c) {
      c.max_output_bytes = max_output;
      c.replay_limit = kMessages;
      // One sender sends megabytes as fast as it can: far past the send limits, which are not tested here.
      c.limits.sends_per_connection = c.limits.sends_per_user = BucketSpec{};
      c.limits.sends_in_flight = 0;
    }).ok());
    ASSERT_TRUE(stack->StartPersister().ok());
    ASSERT_TRUE(RegisterWithRoom("ana", "slow", &sender_user, &room));
  }

  // A connection of a new user `name` joined to the room, after `after` if given.
  std::unique_ptr<WsClient> Join(const std::string& name, int64_t after = -1) {
    auto user = stack->Register(name);
    EXPECT_TRUE(user.ok()) << user.status().ToString();
    return user.ok() ? Join(*user, after) : nullptr;
  }

  std::unique_ptr<WsClient> Join(const TestUser& user, int64_t after = -1) {
    auto ws = stack->Connect(user);
    EXPECT_TRUE(ws.ok()) << ws.status().ToString();
    if (!ws.ok()) return nullptr;
    std::string join = "{\"type\":\"join\",\"room\":" + std::to_string(room);
    if (after >= 0) join += ",\"after\":" + std::to_string(after);
    EXPECT_TRUE((*ws)->SendText(join + "}").ok());
    EXPECT_TRUE(ReceiveType(**ws, "joined").ok());
    return std::move(*ws);
  }

  Status Send(WsClient& sender, int i) {
    return sender.SendText("{\"type\":\"send\",\"room\":" + std::to_string(room) + ",\"text\":\"" + Text(i) +
                           "\",\"client_msg_id\":\"c" + std::to_string(i) + "\"}");
  }

  // Receives messages at positions from..to, in order, with their texts.
  void ExpectMessages(WsClient& ws, int from, int to) {
    for (int pos = from; pos <= to; ++pos) {
      auto f = ReceiveType(ws, "message");
      ASSERT_TRUE(f.ok()) << f.status().ToString() << " waiting for position " << pos;
      ASSERT_EQ(f->doc["pos"].GetInt64(), pos);
      ASSERT_EQ(f->doc["text"].GetString(), Text(pos));
    }
  }

  TestUser sender_user;
  int64_t room = 0;
};

TEST_F(SlowReaderTest, APausedReaderGetsEverythingOnceItReadsAgain) {
  Start(size_t{256} << 20);  // room for the whole backlog: this reader is never dropped
  auto paused = Join("bea");
  auto sender = Join(sender_user);
  ASSERT_TRUE(paused && sender);
  for (int i = 1; i <= kMessages; ++i) ASSERT_TRUE(Send(*sender, i).ok());
  ExpectMessages(*sender, 1, kMessages);
  // All went out to the sender while the paused reader read nothing: what its socket could not hold
  // waited in the ingress. Now it reads them all, in order.
  ExpectMessages(*paused, 1, kMessages);
  // Drained, it is corked again, and the next message reaches it as any other.
  ASSERT_TRUE(sender->SendText("{\"type\":\"send\",\"room\":" + std::to_string(room) + ",\"text\":\"after\"}").ok());
  auto next = ReceiveType(*paused, "message");
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->doc["pos"].GetInt64(), kMessages + 1);
  EXPECT_STREQ(next->doc["text"].GetString(), "after");
}

TEST_F(SlowReaderTest, AReaderTooFarBehindIsDroppedAndCatchesUpWhenItComesBack) {
  Start(256 << 10);
  auto slow = Join("bea");
  auto steady = Join("cam");
  auto sender = Join(sender_user);
  ASSERT_TRUE(slow && steady && sender);
  // The sender and a steady reader keep up, 40 messages (120 KB) at a time; the slow one reads nothing.
  for (int first = 1; first <= kMessages; first += 40) {
    const int last = std::min(kMessages, first + 39);
    for (int i = first; i <= last; ++i) ASSERT_TRUE(Send(*sender, i).ok());
    ExpectMessages(*sender, first, last);
    ExpectMessages(*steady, first, last);
  }

  // The slow reader gets what was queued for it, then the close frame.
  int64_t last = 0;
  for (;;) {
    auto f = slow->ReceiveText();
    if (!f.ok()) {
      EXPECT_EQ(f.status().name(), "closed") << f.status().ToString();
      EXPECT_EQ(slow->close_code(), ws::kCloseTooSlow) << "the close frame comes after what was queued";
      break;
    }
    auto j = ParseJson(*f);
    ASSERT_TRUE(j.ok());
    if (j->Type() != "message") continue;
    ASSERT_EQ(j->doc["pos"].GetInt64(), last + 1);
    last = j->doc["pos"].GetInt64();
  }
  EXPECT_LT(last, kMessages) << "the slow reader was never dropped";
  // Back with "after", it misses nothing.
  auto back = Join("bea2", last);
  ASSERT_TRUE(back);
  ExpectMessages(*back, static_cast<int>(last) + 1, kMessages);
}

}  // namespace
}  // namespace chatpipe::test

namespace chatpipe::test {
namespace {

// A client that never reads keeps its first join's replay in the ingress; its next joins wait their
// turn, holding the live frames of their rooms meanwhile. Those are held within --max-output bytes a
// connection; past it they are dropped and read again from storage once the seat's turn comes, so the
// client still gets every message, in order, and the ingress holds no more for it than its budget.
TEST_F(SlowReaderTest, LiveFramesHeldForAWaitingJoinStayWithinTheBudgetAndAreReadAgain) {
  constexpr size_t kBudget = 64 << 10;
  Start(kBudget);
  auto backlog = stack->CreateRoom(sender_user, "backlog");
  ASSERT_TRUE(backlog.ok());
  ASSERT_TRUE(stack->pg()
                  .Exec("INSERT INTO messages (id, room_id, pos, user_id, user_name, body, ts) "
                        "SELECT $1::bigint * 100000 + g, $1::bigint, g, $2::bigint, 'ana', "
                        "'m' || g || ' ' || repeat('x', $4::int), 0 FROM generate_series(1, $3::int) g",
                        {std::to_string(*backlog), std::to_string(sender_user.id), std::to_string(kMessages),
                         std::to_string(kTextBytes)})
                  .ok());
  auto sender = Join(sender_user);
  ASSERT_TRUE(sender);
  ASSERT_TRUE(Send(*sender, 1).ok());
  ExpectMessages(*sender, 1, 1);

  auto user = stack->Register("bea");
  ASSERT_TRUE(user.ok());
  auto reader = stack->Connect(*user);
  ASSERT_TRUE(reader.ok());
  // The ingress runs in this process: its metrics are read here.
  Metric& waited = Counter("chatpipe_ingress_join_replays_waited_total", "");
  Metric& dropped = Counter("chatpipe_ingress_held_dropped_total", "");
  const int64_t waited_before = waited.value(), dropped_before = dropped.value();
  // The backlog's join first, its "joined" read (and nothing after it): its replay then holds the turn.
  ASSERT_TRUE((*reader)->SendText("{\"type\":\"join\",\"room\":" + std::to_string(*backlog) + ",\"after\":0}").ok());
  ASSERT_TRUE(ReceiveType(**reader, "joined").ok());
  ASSERT_TRUE((*reader)->SendText("{\"type\":\"join\",\"room\":" + std::to_string(room) + ",\"after\":0}").ok());
  ASSERT_TRUE(WaitFor([&] { return waited.value() == waited_before + 1; }));

  // Twice the budget of live traffic while the second join waits. The sender has the same budget and
  // reads its echoes ten at a time, well within it, so that only the reader is ever behind.
  const int sent = static_cast<int>(2 * kBudget / kTextBytes) + 1;
  for (int first = 2; first <= sent; first += 10) {
    const int last = std::min(sent, first + 9);
    for (int i = first; i <= last; ++i) ASSERT_TRUE(Send(*sender, i).ok());
    ExpectMessages(*sender, first, last);
  }
  ASSERT_TRUE(WaitFor([&] { return dropped.value() > dropped_before; }));

  // The reader reads at last: the backlog's replay, then the room from its first message to its last.
  Status whole = ReceiveRoomsWhole(**reader, {{*backlog, kMessages}, {room, sent}}, {{*backlog, 0}});
  EXPECT_TRUE(whole.ok()) << whole.ToString();
}

}  // namespace
}  // namespace chatpipe::test
