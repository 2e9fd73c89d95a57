// The persister against real PostgreSQL and Redis: a batch applied twice (a replay after a crash)
// stores and lists each message once; a client's retry keeps the first message, also when the batch
// holds both or the same event twice; history stays capped and never goes back.
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

TEST_F(PersisterTest, DuplicatesInOneBatchReturnTheFirstStoredRow) {
  ChatEvent a = Event(1, "a");
  ChatEvent b = Event(1, "b", "c-b");
  ChatEvent b_retry = Event(1, "b again", "c-b");  // the client's retry, under a new id
  ChatEvent c = Event(2, "c");
  std::vector<StoredMessage> stored;
  ASSERT_TRUE(persister->Apply({a, b, a, b_retry, c, b, Event(1, "d")}, &stored).ok());
  ASSERT_EQ(stored.size(), 7u);
  std::vector<uint64_t> ids;
  std::vector<int64_t> positions;
  for (const auto& m : stored) {
    ids.push_back(m.event.id);
    positions.push_back(m.pos);
  }
  EXPECT_EQ(ids, (std::vector<uint64_t>{a.id, b.id, a.id, b.id, c.id, b.id, stored[6].event.id}));
  EXPECT_EQ(positions, (std::vector<int64_t>{1, 2, 1, 2, 1, 2, 3}));
  EXPECT_EQ(stored[3].event.text, "b");  // the stored row, not the retry's
  EXPECT_EQ(stored[3].event.client_msg_id, "c-b");
  EXPECT_EQ(stored[6].event.text, "d");
  EXPECT_EQ(stack->CountMessages(1).value_or(-1), 3);
  EXPECT_EQ(stack->CountMessages(2).value_or(-1), 1);
  EXPECT_EQ(HistoryPositions(1), (std::vector<int64_t>{3, 2, 1}));

  // The same events again, with a new one: only that one is stored, after the others.
  std::vector<StoredMessage> again;
  ASSERT_TRUE(persister->Apply({b_retry, Event(1, "e"), a}, &again).ok());
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again[0].event.id, b.id);
  EXPECT_EQ(again[0].pos, 2);
  EXPECT_EQ(again[1].pos, 4);
  EXPECT_EQ(again[2].pos, 1);
  EXPECT_EQ(HistoryPositions(1), (std::vector<int64_t>{4, 3, 2, 1}));
}

TEST_F(PersisterTest, OneIdWithTwoClientMessageIdsIsStoredEventByEvent) {
  // Never produced by ingress (an id is stamped once per message), but the result must still be the
  // event-by-event one: the id's first row wins, and a client_msg_id only its first stored message.
  ChatEvent x = Event(3, "x", "c-x");
  ChatEvent x_other = x;
  x_other.client_msg_id = "c-y";
  ChatEvent y = Event(3, "y", "c-y");
  std::vector<StoredMessage> stored;
  ASSERT_TRUE(persister->Apply({x, x_other, y}, &stored).ok());
  ASSERT_EQ(stored.size(), 3u);
  EXPECT_EQ(stored[0].event.id, x.id);
  EXPECT_EQ(stored[1].event.id, x.id);
  EXPECT_EQ(stored[1].event.client_msg_id, "c-x");
  EXPECT_EQ(stored[2].event.id, y.id);
  EXPECT_EQ(stored[2].pos, 2);
  EXPECT_EQ(stack->CountMessages(3).value_or(-1), 2);
}

// New events only (no replay, no retry: chat_persist's insert-only attempt succeeds) continue each
// room after what is stored, in batch order, also with no client_msg_id.
TEST_F(PersisterTest, NewEventsContinueEachRoomInBatchOrder) {
  std::vector<StoredMessage> stored;
  ASSERT_TRUE(persister->Apply({Event(8, "a", "c-a"), Event(9, "b"), Event(8, "c", "c-c")}, &stored).ok());
  ASSERT_TRUE(persister->Apply({Event(9, "d", "c-d"), Event(8, "e"), Event(10, "f", "c-f"), Event(8, "g", "c-g")},
                               &stored).ok());
  ASSERT_EQ(stored.size(), 4u);
  EXPECT_EQ(stored[0].pos, 2);
  EXPECT_EQ(stored[1].pos, 3);
  EXPECT_EQ(stored[2].pos, 1);
  EXPECT_EQ(stored[3].pos, 4);
  EXPECT_EQ(stored[1].event.text, "e");
  EXPECT_EQ(stored[1].event.client_msg_id, "");
  EXPECT_EQ(stored[3].event.client_msg_id, "c-g");
  EXPECT_EQ(stack->CountMessages(8).value_or(-1), 4);
  EXPECT_EQ(HistoryPositions(8), (std::vector<int64_t>{4, 3, 2, 1}));
  EXPECT_EQ(HistoryPositions(10), (std::vector<int64_t>{1}));
}

TEST_F(PersisterTest, ReplayMixedWithNewMessagesOnlyAddsTheNewToHistory) {
  std::vector<ChatEvent> first;
  for (int i = 0; i < 4; ++i) first.push_back(Event(6, "m" + std::to_string(i)));
  std::vector<StoredMessage> stored;
  ASSERT_TRUE(persister->Apply(first, &stored).ok());
  // A batch that starts with an old message, then new ones of two rooms interleaved.
  ASSERT_TRUE(persister->Apply({first[1], Event(6, "n0"), Event(7, "o0"), first[3], Event(6, "n1")}, &stored).ok());
  ASSERT_EQ(stored.size(), 5u);
  EXPECT_EQ(stored[1].pos, 5);
  EXPECT_EQ(stored[4].pos, 6);
  EXPECT_EQ(HistoryPositions(6), (std::vector<int64_t>{6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(HistoryPositions(7), (std::vector<int64_t>{1}));
}

}  // namespace
}  // namespace chatpipe
