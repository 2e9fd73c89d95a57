// The mailer's input: one chat.notify event, produced by the mention worker for each mention of a user
// who was offline and wants e-mail (docs/events.md, docs/mail.md). Keyed by the mentioned user's id:
//
//   {"type":"mention","mention_id":N,"user_id":U,"room":{"id":R,"name":"general"},
//    "message":{"id":"<decimal>","pos":P,"text":"...","ts":MS},"from":{"id":F,"name":"ana"},"ts":MS}
//
// "message.pos" is optional (the mention worker may not know it yet). Decoding validates every field
// the mailer relies on, so a bad event is refused here (and dead-lettered)
// instead of failing later inside SQL or a template. Encode() writes the same shape back; the mailer stores
// that normalised text, and tests use it to produce input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace chatpipe::mail {

struct Mention {
  int64_t mention_id = 0;
  int64_t user_id = 0;  // the mentioned user
  int64_t room_id = 0;
  std::string room_name;
  std::string message_id;  // decimal string, as everywhere on the wire
  int64_t pos = 0;  // optional in the event: 0 when absent
  std::string text;
  int64_t message_ts = 0;  // ms since the epoch
  int64_t from_id = 0;
  std::string from_name;
  int64_t ts = 0;  // when the notification was made, ms since the epoch
};

Result<Mention> DecodeMention(std::string_view json);
std::string EncodeMention(const Mention& m);

}  // namespace chatpipe::mail
