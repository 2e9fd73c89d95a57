#include "workers/mail/notify_event.h"

#include <gtest/gtest.h>

namespace chatpipe::mail {
namespace {

constexpr const char* kEvent =
    R"({"type":"mention","mention_id":7,"user_id":3,"room":{"id":1,"name":"general"},)"
    R"("message":{"id":"123456789012345678","pos":9,"text":"hi @bea","ts":1700000000000},)"
    R"("from":{"id":2,"name":"ana"},"ts":1700000000100})";

TEST(NotifyEventTest, DecodesTheMentionWorkersEvent) {
  auto m = DecodeMention(kEvent);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->mention_id, 7);
  EXPECT_EQ(m->user_id, 3);
  EXPECT_EQ(m->room_id, 1);
  EXPECT_EQ(m->room_name, "general");
  EXPECT_EQ(m->message_id, "123456789012345678");
  EXPECT_EQ(m->pos, 9);
  EXPECT_EQ(m->text, "hi @bea");
  EXPECT_EQ(m->message_ts, 1700000000000);
  EXPECT_EQ(m->from_id, 2);
  EXPECT_EQ(m->from_name, "ana");
  EXPECT_EQ(m->ts, 1700000000100);
  EXPECT_EQ(EncodeMention(*m), kEvent);
}

TEST(NotifyEventTest, PositionIsOptional) {
  // The mention worker's events carry no position.
  const char* without =
      R"({"type":"mention","mention_id":7,"user_id":3,"room":{"id":1,"name":"general"},)"
      R"("message":{"id":"12","text":"hi","ts":5},"from":{"id":2,"name":"ana"},"ts":6})";
  auto m = DecodeMention(without);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->pos, 0);
  EXPECT_EQ(EncodeMention(*m), without);
  EXPECT_FALSE(DecodeMention(R"({"type":"mention","mention_id":7,"user_id":3,"room":{"id":1,"name":"g"},)"
                             R"("message":{"id":"12","pos":"x","text":"hi","ts":5},"from":{"id":2,"name":"a"},"ts":6})")
                   .ok());
}

TEST(NotifyEventTest, RefusesBadEventsWithAReason) {
  for (const char* bad : {
           "", "[]", "not json", R"({"type":"other"})",
           R"({"type":"mention","mention_id":0,"user_id":3})",
           R"({"type":"mention","mention_id":7,"user_id":3,"ts":1,"room":{"id":1,"name":"g"},)"
           R"("message":{"id":12,"pos":1,"text":"x","ts":1},"from":{"id":2,"name":"a"}})",  // numeric message id
           R"({"type":"mention","mention_id":7,"user_id":3,"ts":1,"room":{"id":1,"name":"g"},)"
           R"("message":{"id":"12","pos":1,"text":"x","ts":1}})",  // no from
       }) {
    auto m = DecodeMention(bad);
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_EQ(m.status().name(), "bad_event");
    EXPECT_FALSE(m.status().detail().empty());
  }
}

}  // namespace
}  // namespace chatpipe::mail
