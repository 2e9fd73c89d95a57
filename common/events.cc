#include "common/events.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>
#include <cstring>
#include <new>
#include <type_traits>

#include "common/message_id.h"
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

// Ids are PostgreSQL bigints: one past INT64_MAX would be stored negative, after a Redis script had
// taken it whole.
bool ReadId(const rapidjson::Value& v, uint64_t* out) {
  if (!v.IsString()) return false;
  auto s = std::string_view(v.GetString(), v.GetStringLength());
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size() && *out <= static_cast<uint64_t>(INT64_MAX);
}

Status Malformed(const char* what) { return Status::InvalidArgument("bad_event", what); }

// A member that must be an object, when present, kept as its JSON text.
Status ReadObjectText(const rapidjson::Document& doc, const char* name, std::string* out) {
  auto member = doc.FindMember(name);
  if (member == doc.MemberEnd()) return Status::Ok();
  if (!member->value.IsObject()) return Status::InvalidArgument("bad_event", std::string(name) + " not an object");
  rapidjson::StringBuffer buf;
  Writer w(buf);
  member->value.Accept(w);
  out->assign(buf.GetString(), buf.GetSize());
  return Status::Ok();
}

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
  if (Status s = ReadObjectText(doc, "image", &e->image); !s.ok()) return s;
  return ReadObjectText(doc, "tags", &e->tags);
}

// What follows the id in both encodings.
void WriteEventBody(Writer& w, const ChatEvent& e, bool with_tags = true) {
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
  if (!e.image.empty()) {
    w.Key("kind");
    w.String("image");
    w.Key("image");
    w.RawValue(e.image.data(), e.image.size(), rapidjson::kObjectType);
  }
  // Last: the tag worker's history patch appends tags to frames that have none.
  if (with_tags && !e.tags.empty()) {
    w.Key("tags");
    w.RawValue(e.tags.data(), e.tags.size(), rapidjson::kObjectType);
  }
}

void Append(rapidjson::StringBuffer& buf, std::string_view text) {
  std::memcpy(buf.Push(text.size()), text.data(), text.size());
}

template <typename Int>
void AppendInt(rapidjson::StringBuffer& buf, Int n) {
  char digits[24];
  char* end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  Append(buf, std::string_view(digits, static_cast<size_t>(end - digits)));
}

// A Writer that continues an object whose first `members` members were appended as raw text (a
// frame's head): the next key gets its comma, and EndObject() closes the object.
class ContinuingWriter : public Writer {
 public:
  ContinuingWriter(rapidjson::StringBuffer& buf, size_t members) : Writer(buf) {
    hasRoot_ = true;
    Level* object = new (level_stack_.template Push<Level>()) Level(false);
    object->valueCount = 2 * members;  // a key and a value each
  }
};

// Digits, optionally signed, at the front of `*text`, which then starts after them.
bool TakeInt(std::string_view* text, int64_t* out) {
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), *out);
  if (ec != std::errc()) return false;
  text->remove_prefix(static_cast<size_t>(end - text->data()));
  return true;
}

bool TakePrefix(std::string_view* text, std::string_view prefix) {
  if (text->substr(0, prefix.size()) != prefix) return false;
  text->remove_prefix(prefix.size());
  return true;
}

}  // namespace

// Both encodings start with fixed keys, appended as text (a tenth of a Writer's instructions for
// them), then the id; a ContinuingWriter writes the rest of the object.
void AppendId(rapidjson::StringBuffer& buf, uint64_t id) {
  Append(buf, kFrameIdKey);
  AppendInt(buf, id);
  buf.Put('"');
}

std::string EncodeChatEvent(const ChatEvent& e, bool with_tags) {
  rapidjson::StringBuffer buf;
  Append(buf, R"({"v":)");
  AppendInt(buf, kEventSchemaVersion);
  Append(buf, R"(,"type":"message","room":)");
  AppendInt(buf, e.room);
  AppendId(buf, e.id);
  ContinuingWriter w(buf, 4);  // v, type, room, id
  WriteEventBody(w, e, with_tags);
  if (with_tags && !e.tags.empty() && !e.tagger_version.empty()) {
    w.Key("tagger_version");
    w.String(e.tagger_version.data(), e.tagger_version.size());
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

namespace {

// Parses a Kafka event's envelope: UTF-8, a JSON object, our schema version and `type`. Our UTF-8
// validator, not rapidjson's kParseValidateEncodingFlag: the same check for a fifteenth of the
// instructions (bench/README.md, callgrind).
Status ParseEvent(std::string_view json, std::string_view type, rapidjson::Document* doc) {
  if (!IsValidUtf8(json)) return Malformed("not UTF-8");
  doc->Parse(json.data(), json.size());
  if (doc->HasParseError() || !doc->IsObject()) return Malformed("not a JSON object");
  auto v = doc->FindMember("v");
  if (v == doc->MemberEnd() || !v->value.IsInt() || v->value.GetInt() != kEventSchemaVersion)
    return Malformed("unknown schema version");
  auto t = doc->FindMember("type");
  if (t == doc->MemberEnd() || !t->value.IsString() || std::string_view(t->value.GetString()) != type)
    return Malformed("unknown event type");
  return Status::Ok();
}

}  // namespace

Result<ChatEvent> DecodeChatEvent(std::string_view json) {
  rapidjson::Document doc;
  if (Status s = ParseEvent(json, "message", &doc); !s.ok()) return s;
  ChatEvent e;
  if (Status s = ReadEventFields(doc, &e); !s.ok()) return s;
  if (e.tags.empty()) return e;  // the version comes only with tags: most events pay no lookup
  auto version = doc.FindMember("tagger_version");
  if (version != doc.MemberEnd()) {
    if (!version->value.IsString()) return Malformed("tagger_version not a string");
    e.tagger_version.assign(version->value.GetString(), version->value.GetStringLength());
  }
  return e;
}

std::string EncodeMessageFrame(const StoredMessage& m) {
  rapidjson::StringBuffer buf;
  Append(buf, kFrameHead);
  AppendInt(buf, m.event.room);
  Append(buf, kFramePosKey);
  AppendInt(buf, m.pos);
  AppendId(buf, m.event.id);
  ContinuingWriter w(buf, 4);  // type, room, pos, id
  WriteEventBody(w, m.event);
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

bool ReadFrameHead(std::string_view frame, FrameHead* head) {
  if (!TakePrefix(&frame, kFrameHead) || !TakeInt(&frame, &head->room) || !TakePrefix(&frame, kFramePosKey) ||
      !TakeInt(&frame, &head->pos) || frame.substr(0, kFrameIdKey.size()) != kFrameIdKey)
    return false;
  head->rest = frame;
  return true;
}

int64_t FramePosition(std::string_view frame) {
  FrameHead head;
  return ReadFrameHead(frame, &head) ? head.pos : 0;
}

const std::string& FrameHeadLuaPattern() {
  // Lua's magic characters are ^$()%.[]*+-?; the head's constants have none, so they stand for
  // themselves (the tests run the pattern in Redis against encoded frames).
  static const std::string pattern = "^" + std::string(kFrameHead) + "%-?%d+" + std::string(kFramePosKey) + "(%d+)" +
                                     std::string(kFrameIdKey) + "(%d+)\"";
  return pattern;
}

namespace {

// An event's head: {"v":1,"type":TYPE,ID_KEY:"<id>" — the rest is the caller's, then EndObject.
void StartEvent(Writer& w, const char* type, const char* id_key, uint64_t id) {
  w.StartObject();
  w.Key("v");
  w.Int(kEventSchemaVersion);
  w.Key("type");
  w.String(type);
  w.Key(id_key);
  const std::string text = std::to_string(id);
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

// Reads each (key, out) integer member of an event; Malformed naming `what` when one is missing.
template <typename Int>
Status ReadInts(const rapidjson::Document& doc, std::initializer_list<std::pair<const char*, Int*>> fields,
                const char* what) {
  for (auto [key, out] : fields) {
    auto m = doc.FindMember(key);
    if (m == doc.MemberEnd() || !(std::is_same_v<Int, int> ? m->value.IsInt() : m->value.IsInt64()))
      return Malformed(what);
    *out = static_cast<Int>(m->value.GetInt64());
  }
  return Status::Ok();
}

}  // namespace

std::string EncodeSpeechRequest(const SpeechRequest& r) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  StartEvent(w, "speech", "message", r.message);
  w.Key("room");
  w.Int64(r.room);
  w.Key("user");
  w.Int64(r.user);
  w.Key("ts");
  w.Int64(r.ts_ms);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<SpeechRequest> DecodeSpeechRequest(std::string_view json) {
  rapidjson::Document doc;
  if (Status s = ParseEvent(json, "speech", &doc); !s.ok()) return s;
  SpeechRequest r;
  auto message = doc.FindMember("message");
  if (message == doc.MemberEnd() || !ReadId(message->value, &r.message) || r.message == 0)
    return Malformed("message missing or not a decimal string");
  if (Status s = ReadInts<int64_t>(doc, {{"room", &r.room}, {"user", &r.user}, {"ts", &r.ts_ms}}, "room, user or ts missing");
      !s.ok())
    return s;
  return r;
}

std::string EncodePixelBatch(const std::vector<PixelPlacement>& placements) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("v");
  w.Int(kEventSchemaVersion);
  w.Key("type");
  w.String("pixel_batch");
  w.Key("placements");
  w.StartArray();
  for (const PixelPlacement& p : placements) {
    w.StartArray();
    const std::string id = std::to_string(p.id);
    w.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
    w.Int64(p.user);
    w.Int(p.x);
    w.Int(p.y);
    w.Int(p.color);
    w.EndArray();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

namespace {

Result<PixelPlacement> DecodeOnePlacement(const rapidjson::Document& doc) {
  PixelPlacement p;
  auto id = doc.FindMember("id");
  if (id == doc.MemberEnd() || !ReadId(id->value, &p.id) || p.id == 0) return Malformed("id missing or not a decimal string");
  if (Status s = ReadInts<int64_t>(doc, {{"user", &p.user}, {"ts", &p.ts_ms}}, "user or ts missing"); !s.ok()) return s;
  if (Status s = ReadInts<int>(doc, {{"x", &p.x}, {"y", &p.y}, {"color", &p.color}}, "x, y or color missing"); !s.ok())
    return s;
  return p;
}

Result<PixelPlacement> DecodeBatchItem(const rapidjson::Value& item) {
  PixelPlacement p;
  if (!item.IsArray() || item.Size() != 5 || !ReadId(item[0], &p.id) || p.id == 0 || !item[1].IsInt64() ||
      !item[2].IsInt() || !item[3].IsInt() || !item[4].IsInt())
    return Malformed("a placement is not [\"<id>\", user, x, y, color]");
  p.user = item[1].GetInt64();
  p.x = item[2].GetInt();
  p.y = item[3].GetInt();
  p.color = item[4].GetInt();
  p.ts_ms = static_cast<int64_t>(MessageIdGenerator::TimestampMs(p.id));
  return p;
}

}  // namespace

Result<std::vector<PixelPlacement>> DecodePixelPlacements(std::string_view json) {
  rapidjson::Document doc;
  if (Status s = ParseEvent(json, "pixel_batch", &doc); !s.ok()) {
    if (Status old = ParseEvent(json, "pixel", &doc); !old.ok()) return s;
    auto one = DecodeOnePlacement(doc);
    if (!one.ok()) return one.status();
    return std::vector<PixelPlacement>{*one};
  }
  auto list = doc.FindMember("placements");
  if (list == doc.MemberEnd() || !list->value.IsArray() || list->value.Empty())
    return Malformed("placements missing or empty");
  std::vector<PixelPlacement> out;
  out.reserve(list->value.Size());
  for (const rapidjson::Value& item : list->value.GetArray()) {
    auto p = DecodeBatchItem(item);
    if (!p.ok()) return p.status();
    out.push_back(*p);
  }
  return out;
}

bool ReadPixelsFrame(std::string_view text, PixelsFrame* f) {
  if (!TakePrefix(&text, kPixelsHead) || !TakeInt(&text, &f->prev) || !TakePrefix(&text, kPixelsVersionKey) ||
      !TakeInt(&text, &f->v) || !TakePrefix(&text, kPixelsItemsKey) || text.size() < 2 ||
      text.substr(text.size() - 2) != "]}")
    return false;
  f->items = text.substr(0, text.size() - 2);
  return f->prev < f->v;
}

std::string EncodePixelsFrame(int64_t prev, int64_t v, std::string_view items) {
  std::string out;
  out.reserve(kPixelsHead.size() + kPixelsVersionKey.size() + kPixelsItemsKey.size() + items.size() + 44);
  out.append(kPixelsHead).append(std::to_string(prev)).append(kPixelsVersionKey).append(std::to_string(v));
  return out.append(kPixelsItemsKey).append(items).append("]}");
}

std::string EncodeSpeechFrame(const SpeechReady& s) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("type");
  w.String("speech");
  w.Key("room");
  w.Int64(s.room);
  w.Key("id");
  const std::string id = std::to_string(s.message);
  w.String(id.data(), id.size());
  w.Key("url");
  w.String(s.url.data(), s.url.size());
  w.Key("duration_ms");
  w.Int64(s.duration_ms);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace chatpipe
