// The mailer's dead letters: notifications it will never deliver, on the dead-letter topic with the
// reason, keyed by the user id. Payload (docs/mail.md):
//   {"source":"mail","code":"MessageRejected","reason":"...","outbox_id":N,"user_id":U,"to":"..",
//    "message_id":"..","mention_ids":[..],"mentions":[<the recorded chat.notify events>]}
// A chat.notify event that cannot even be decoded or recorded goes there as it came, with the reason in
// headers (the consume loop does that). Every dead letter is sent through the mail worker's
// DeadLetters (workers/consume/dead_letters.h): headers source=mail, reason.
#pragma once

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

std::string EncodeDeadLetter(const DeadLetter& d);

}  // namespace chatpipe::mail
