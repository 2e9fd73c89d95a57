// The mailer's dead letters: notifications it will never deliver, on the dead-letter topic with the
// reason, keyed by the user id. Payload (docs/mail.md):
//   {"source":"mail","code":"MessageRejected","reason":"...","outbox_id":N,"user_id":U,"to":"..",
//    "message_id":"..","mention_ids":[..],"mentions":[<the recorded chat.notify events>]}
// with "mentions_left_out":N when N events did not fit kDeadLetterEventBytes (every id is still in
// mention_ids): a letter past Kafka's message size would be refused, and the sender would retry it
// forever holding the row.
// A chat.notify event that cannot even be decoded or recorded goes there as it came, with the reason in
// headers (the consume loop does that). Every dead letter is sent through the mail worker's
// DeadLetters (workers/consume/dead_letters.h): headers source=mail, reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace chatpipe::mail {

struct DeadLetter {
  std::string code;    // SES-style: MessageRejected, InvalidParameterValue, Unknown, ...
  std::string reason;
  int64_t outbox_id = 0;
  int64_t user_id = 0;
  std::string to;
  std::string message_id;
  std::vector<int64_t> mention_ids;
  std::vector<std::string> events;  // JSON objects
};

// The most bytes of events a letter carries: well under librdkafka's 1,000,000-byte message.max.bytes,
// with room for the rest of the letter and its headers.
inline constexpr size_t kDeadLetterEventBytes = 512 * 1024;

std::string EncodeDeadLetter(const DeadLetter& d);

}  // namespace chatpipe::mail
