// The persister against real PostgreSQL and Redis: a batch applied twice (a replay after a crash)
// stores and lists each message once; a client's retry keeps the first message; history stays capped.
#include "workers/persist/persister.h"

#include <gtest/gtest.h>

#include "common/message_id.h"
#include "storage/redis_keys.h"
#include "tests/support/stack.h"

namespace chatpipe {
namespace {

class PersisterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = test::TestStack::Create(/*partitions=*/1);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    stack = std::move(*s);
    persister = std::make_unique<Persister>(stack->config(), 100);
    ASSERT_TRUE(persister->Start().ok());
  }

  ChatEvent Event(int64_t room, const std::string& text, const std::string& client_msg_id = "") {
    ChatEvent e;
    e.id = ids.Next();
    e.ts_ms = static_cast<int64_t>(MessageIdGenerator::TimestampMs(e.id));
    e.room = room;
    e.user = {7, "ana"};
    e.text = text;
    e.client_msg_id = client_msg_id;
    return e;
  }

  std::vector<int64_t> HistoryPositions(int64_t room) {
    auto list = stack->redis().Command({"LRANGE", RoomHistoryKey(stack->config().RedisPrefix(), room), "0", "-1"});
    std::vector<int64_t> out;
    for (const auto& e : list->elements) out.push_back(DecodeMessageFrame(e.str)->pos);
    return out;
  }

  std::unique_ptr<test::TestStack> stack;
  std::unique_ptr<Persister> persister;
  MessageIdGenerator ids{3};
};

TEST_F(PersisterTest, ReplayedBatchChangesNothing) {
  std::vector<ChatEvent> batch = {Event(1, "a"), Event(2, "b"), Event(1, "c")};
  std::vector<StoredMessage> first, again;
  ASSERT_TRUE(persister->Apply(batch, &first).ok());
  ASSERT_TRUE(persister->Apply(batch, &again).ok());
  ASSERT_EQ(first.size(), 3u);
  ASSERT_EQ(again.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(first[i].event.id, again[i].event.id);
    EXPECT_EQ(first[i].pos, again[i].pos);
  }
  EXPECT_EQ(first[0].pos, 1);
  EXPECT_EQ(first[1].pos, 1);
  EXPECT_EQ(first[2].pos, 2);
  EXPECT_EQ(stack->CountMessages(1).value_or(-1), 2);
  EXPECT_EQ(stack->CountMessages(2).value_or(-1), 1);
  EXPECT_EQ(HistoryPositions(1), (std::vector<int64_t>{2, 1}));
}

TEST_F(PersisterTest, ClientRetryKeepsTheFirstMessage) {
  ChatEvent original = Event(1, "hello", "c-1");
  ChatEvent retry = Event(1, "hello", "c-1");  // a new id: ingress cannot know it is a retry
  std::vector<StoredMessage> stored;
  ASSERT_TRUE(persister->Apply({original, retry}, &stored).ok());
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[1].event.id, original.id);
  EXPECT_EQ(stored[1].pos, stored[0].pos);
  EXPECT_EQ(stack->CountMessages(1).value_or(-1), 1);
  // Another user's message with the same client_msg_id is a different message.
  ChatEvent other = Event(1, "hi", "c-1");
  other.user = {8, "bea"};
  ASSERT_TRUE(persister->Apply({other}, &stored).ok());
  EXPECT_EQ(stack->CountMessages(1).value_or(-1), 2);
}

TEST_F(PersisterTest, HistoryListIsCappedOldestOut) {
  std::vector<ChatEvent> batch;
  for (int i = 0; i < 25; ++i) batch.push_back(Event(5, "m" + std::to_string(i)));
  std::vector<StoredMessage> stored;
  ASSERT_TRUE(persister->Apply(batch, &stored).ok());
  std::vector<int64_t> want;
  for (int64_t p = 25; p > 25 - kHistoryCap; --p) want.push_back(p);
  EXPECT_EQ(HistoryPositions(5), want);
  // Replaying an old part of the stream does not push old messages back in.
  ASSERT_TRUE(persister->Apply({batch[3]}, &stored).ok());
  EXPECT_EQ(HistoryPositions(5), want);
}

}  // namespace
}  // namespace chatpipe
