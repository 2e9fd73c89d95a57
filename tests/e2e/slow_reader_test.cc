// Readers that stop reading. A WebSocket's output is corked and written once per loop iteration; what
// its socket does not take stays in the ingress until the socket drains (then it is corked again),
// and a reader further behind than --max-output is closed (4002) while the rest of the room carries on.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

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
