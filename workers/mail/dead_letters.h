// The mailer's dead letters: notifications it will never deliver, on the dead-letter topic with the
// reason, keyed by the user id. Payload (docs/mail.md):
//   {"source":"mail","code":"MessageRejected","reason":"...","outbox_id":N,"user_id":U,"to":"..",
//    "message_id":"..","mention_ids":[..],"mentions":[<the recorded chat.notify events>]}
// A chat.notify event that cannot even be decoded goes there as it came, with the reason in headers
// (as the persister does). Headers on every dead letter: source=mail, reason.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "queue/kafka.h"

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

// Produces one dead letter and waits for the broker's ack, retrying until it is delivered or `stop` is
// set (then it returns the failure: the caller must not record the row as dead-lettered).
Status ProduceDeadLetter(KafkaProducer* producer, const std::string& topic, const std::string& key,
                         const std::string& payload, const std::string& reason, const std::atomic<bool>& stop);

}  // namespace chatpipe::mail
