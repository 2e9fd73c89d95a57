#include "workers/mail/dead_letters.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

namespace chatpipe::mail {
namespace {

DeadLetter LetterWith(int events, size_t event_bytes) {
  DeadLetter d;
  d.code = "MessageRejected";
  d.reason = "RCPT failed: 550";
  d.outbox_id = 4;
  d.user_id = 3;
  d.to = "bea@example.org";
  for (int i = 1; i <= events; ++i) {
    d.mention_ids.push_back(i);
    const std::string head = "{\"mention_id\":" + std::to_string(i) + ",\"text\":\"";
    d.events.push_back(head + std::string(event_bytes - head.size() - 2, 'a') + "\"}");
  }
  return d;
}

TEST(MailDeadLetter, CarriesEveryMentionItsSizeAllows) {
  rapidjson::Document doc;
  const std::string small = EncodeDeadLetter(LetterWith(3, 100));
  ASSERT_FALSE(doc.Parse(small.c_str()).HasParseError()) << small;
  EXPECT_EQ(doc["mentions"].Size(), 3u);
  EXPECT_FALSE(doc.HasMember("mentions_left_out"));

  // 100 mentions of 16 KiB (the longest messages): 1.6 MB, past what Kafka takes in one message.
  const std::string big = EncodeDeadLetter(LetterWith(100, 16 * 1024));
  EXPECT_LT(big.size(), kDeadLetterEventBytes + 4096);
  ASSERT_FALSE(doc.Parse(big.c_str()).HasParseError());
  const unsigned carried = doc["mentions"].Size();
  EXPECT_EQ(carried, kDeadLetterEventBytes / (16 * 1024));
  EXPECT_EQ(doc["mentions_left_out"].GetUint(), 100 - carried);
  EXPECT_EQ(doc["mention_ids"].Size(), 100u) << "every id stays, to find the rest in PostgreSQL";
}

}  // namespace
}  // namespace chatpipe::mail
