#include "workers/mail/dead_letters.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace chatpipe::mail {

std::string EncodeDeadLetter(const DeadLetter& d) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&w](const std::string& s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
  w.StartObject();
  w.Key("source");
  w.String("mail");
  w.Key("code");
  str(d.code);
  w.Key("reason");
  str(d.reason);
  w.Key("outbox_id");
  w.Int64(d.outbox_id);
  w.Key("user_id");
  w.Int64(d.user_id);
  w.Key("to");
  str(d.to);
  w.Key("message_id");
  str(d.message_id);
  w.Key("mention_ids");
  w.StartArray();
  for (int64_t id : d.mention_ids) w.Int64(id);
  w.EndArray();
  w.Key("mentions");
  w.StartArray();
  size_t bytes = 0, left_out = 0;
  for (const auto& e : d.events) {
    if (bytes + e.size() > kDeadLetterEventBytes) {
      ++left_out;
      continue;
    }
    bytes += e.size();
    w.RawValue(e.data(), e.size(), rapidjson::kObjectType);
  }
  w.EndArray();
  if (left_out) {
    w.Key("mentions_left_out");
    w.Uint64(left_out);
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace chatpipe::mail
