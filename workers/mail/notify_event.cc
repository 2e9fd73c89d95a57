#include "workers/mail/notify_event.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace chatpipe::mail {
namespace {

Status Malformed(const std::string& what) { return Status::InvalidArgument("bad_event", "chat.notify event: " + what); }

bool GetInt(const rapidjson::Value& obj, const char* name, int64_t* out) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsInt64()) return false;
  *out = it->value.GetInt64();
  return true;
}

bool GetString(const rapidjson::Value& obj, const char* name, std::string* out) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) return false;
  out->assign(it->value.GetString(), it->value.GetStringLength());
  return true;
}

const rapidjson::Value* GetObject(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  return it != obj.MemberEnd() && it->value.IsObject() ? &it->value : nullptr;
}

bool IsDecimal(const std::string& s) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

Result<Mention> DecodeMention(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return Malformed("not a JSON object");
  std::string type;
  if (!GetString(doc, "type", &type) || type != "mention") return Malformed("type is not \"mention\"");
  Mention m;
  if (!GetInt(doc, "mention_id", &m.mention_id) || m.mention_id <= 0) return Malformed("mention_id missing");
  if (!GetInt(doc, "user_id", &m.user_id) || m.user_id <= 0) return Malformed("user_id missing");
  if (!GetInt(doc, "ts", &m.ts)) return Malformed("ts missing");
  const rapidjson::Value* room = GetObject(doc, "room");
  if (!room || !GetInt(*room, "id", &m.room_id) || !GetString(*room, "name", &m.room_name))
    return Malformed("room.id or room.name missing");
  const rapidjson::Value* msg = GetObject(doc, "message");
  if (!msg || !GetString(*msg, "id", &m.message_id) || !IsDecimal(m.message_id) ||
      !GetString(*msg, "text", &m.text) || !GetInt(*msg, "ts", &m.message_ts))
    return Malformed("message.id (decimal string), text or ts missing");
  // The position is optional: the mention worker may see a message before the persister placed it.
  if (msg->HasMember("pos") && (!GetInt(*msg, "pos", &m.pos) || m.pos < 0)) return Malformed("message.pos is not a position");
  const rapidjson::Value* from = GetObject(doc, "from");
  if (!from || !GetInt(*from, "id", &m.from_id) || !GetString(*from, "name", &m.from_name))
    return Malformed("from.id or from.name missing");
  return m;
}

std::string EncodeMention(const Mention& m) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&w](const std::string& s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
  w.StartObject();
  w.Key("type");
  w.String("mention");
  w.Key("mention_id");
  w.Int64(m.mention_id);
  w.Key("user_id");
  w.Int64(m.user_id);
  w.Key("room");
  w.StartObject();
  w.Key("id");
  w.Int64(m.room_id);
  w.Key("name");
  str(m.room_name);
  w.EndObject();
  w.Key("message");
  w.StartObject();
  w.Key("id");
  str(m.message_id);
  if (m.pos > 0) {
    w.Key("pos");
    w.Int64(m.pos);
  }
  w.Key("text");
  str(m.text);
  w.Key("ts");
  w.Int64(m.message_ts);
  w.EndObject();
  w.Key("from");
  w.StartObject();
  w.Key("id");
  w.Int64(m.from_id);
  w.Key("name");
  str(m.from_name);
  w.EndObject();
  w.Key("ts");
  w.Int64(m.ts);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace chatpipe::mail
