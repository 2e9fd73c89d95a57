#include "common/events.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>

#include "common/utf8.h"

namespace chatpipe {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void WriteUser(Writer& w, const UserRef& user) {
  w.StartObject();
  w.Key("id");
  w.Int64(user.id);
  w.Key("name");
  w.String(user.name.data(), user.name.size());
  w.EndObject();
}

void WriteId(Writer& w, uint64_t id) {
  char buf[24];
  auto end = std::to_chars(buf, buf + sizeof buf, id).ptr;
  w.String(buf, end - buf);
}

bool ReadId(const rapidjson::Value& v, uint64_t* out) {
  if (!v.IsString()) return false;
  auto s = std::string_view(v.GetString(), v.GetStringLength());
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

Status Malformed(const char* what) { return Status::InvalidArgument("bad_event", what); }

// Fills the fields ChatEvent and the message frame share.
Status ReadEventFields(const rapidjson::Document& doc, ChatEvent* e) {
  auto id = doc.FindMember("id");
  if (id == doc.MemberEnd() || !ReadId(id->value, &e->id)) return Malformed("id missing or not a decimal string");
  auto room = doc.FindMember("room");
  if (room == doc.MemberEnd() || !room->value.IsInt64()) return Malformed("room missing");
  e->room = room->value.GetInt64();
  auto user = doc.FindMember("user");
  if (user == doc.MemberEnd() || !user->value.IsObject()) return Malformed("user missing");
  auto uid = user->value.FindMember("id");
  auto uname = user->value.FindMember("name");
  if (uid == user->value.MemberEnd() || !uid->value.IsInt64() || uname == user->value.MemberEnd() ||
      !uname->value.IsString())
    return Malformed("user.id or user.name missing");
  e->user.id = uid->value.GetInt64();
  e->user.name.assign(uname->value.GetString(), uname->value.GetStringLength());
  auto text = doc.FindMember("text");
  if (text == doc.MemberEnd() || !text->value.IsString()) return Malformed("text missing");
  e->text.assign(text->value.GetString(), text->value.GetStringLength());
  auto ts = doc.FindMember("ts");
  if (ts == doc.MemberEnd() || !ts->value.IsInt64()) return Malformed("ts missing");
  e->ts_ms = ts->value.GetInt64();
  auto cmid = doc.FindMember("client_msg_id");
  if (cmid != doc.MemberEnd()) {
    if (!cmid->value.IsString()) return Malformed("client_msg_id not a string");
    e->client_msg_id.assign(cmid->value.GetString(), cmid->value.GetStringLength());
  }
  auto tags = doc.FindMember("tags");
  if (tags != doc.MemberEnd()) {
    if (!tags->value.IsObject()) return Malformed("tags not an object");
    rapidjson::StringBuffer buf;
    Writer w(buf);
    tags->value.Accept(w);
    e->tags.assign(buf.GetString(), buf.GetSize());
  }
  return Status::Ok();
}

void WriteEventTail(Writer& w, const ChatEvent& e) {
  w.Key("id");
  WriteId(w, e.id);
  w.Key("user");
  WriteUser(w, e.user);
  w.Key("text");
  w.String(e.text.data(), e.text.size());
  w.Key("ts");
  w.Int64(e.ts_ms);
  if (!e.client_msg_id.empty()) {
    w.Key("client_msg_id");
    w.String(e.client_msg_id.data(), e.client_msg_id.size());
  }
  if (!e.tags.empty()) {
    w.Key("tags");
    w.RawValue(e.tags.data(), e.tags.size(), rapidjson::kObjectType);
  }
}

}  // namespace

std::string EncodeChatEvent(const ChatEvent& e) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("v");
  w.Int(kEventSchemaVersion);
  w.Key("type");
  w.String("message");
  w.Key("room");
  w.Int64(e.room);
  WriteEventTail(w, e);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<ChatEvent> DecodeChatEvent(std::string_view json) {
  // Our validator, not rapidjson's kParseValidateEncodingFlag: the same check for a fifteenth of the
  // instructions (bench/README.md, callgrind).
  if (!IsValidUtf8(json)) return Malformed("not UTF-8");
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return Malformed("not a JSON object");
  auto v = doc.FindMember("v");
  if (v == doc.MemberEnd() || !v->value.IsInt() || v->value.GetInt() != kEventSchemaVersion)
    return Malformed("unknown schema version");
  auto type = doc.FindMember("type");
  if (type == doc.MemberEnd() || !type->value.IsString() || std::string_view(type->value.GetString()) != "message")
    return Malformed("unknown event type");
  ChatEvent e;
  if (Status s = ReadEventFields(doc, &e); !s.ok()) return s;
  return e;
}

std::string EncodeMessageFrame(const StoredMessage& m) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("type");
  w.String("message");
  w.Key("room");
  w.Int64(m.event.room);
  w.Key("pos");
  w.Int64(m.pos);
  WriteEventTail(w, m.event);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<StoredMessage> DecodeMessageFrame(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return Malformed("not a JSON object");
  StoredMessage m;
  auto pos = doc.FindMember("pos");
  if (pos == doc.MemberEnd() || !pos->value.IsInt64()) return Malformed("pos missing");
  m.pos = pos->value.GetInt64();
  if (Status s = ReadEventFields(doc, &m.event); !s.ok()) return s;
  return m;
}

}  // namespace chatpipe
