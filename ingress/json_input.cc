#include "ingress/json_input.h"

#include <charconv>

#include <algorithm>

#include "common/utf8.h"

namespace chatpipe {

Status ParseObject(std::string_view text, std::initializer_list<std::string_view> allowed, rapidjson::Document* doc) {
  // Our validator, not rapidjson's kParseValidateEncodingFlag: the same check for a fifteenth of the
  // instructions (bench/README.md, callgrind).
  if (!IsValidUtf8(text)) return Status::InvalidArgument("bad_json", "the body is not valid UTF-8");
  doc->Parse(text.data(), text.size());
  if (doc->HasParseError()) return Status::InvalidArgument("bad_json", "the body is not valid JSON");
  if (!doc->IsObject()) return Status::InvalidArgument("bad_json", "expected a JSON object");
  // rapidjson decodes the escape of a lone low surrogate ("\udc00") to bytes that are not UTF-8:
  // acknowledged, they would be refused by PostgreSQL after the ack, and echoed in an error they
  // would make the answer invalid. Only members are read, so only they are checked. (Found by
  // tests/fuzz/json_input_fuzz.)
  for (auto it = doc->MemberBegin(); it != doc->MemberEnd(); ++it) {
    if (!IsValidUtf8({it->name.GetString(), it->name.GetStringLength()}) ||
        (it->value.IsString() && !IsValidUtf8({it->value.GetString(), it->value.GetStringLength()})))
      return Status::InvalidArgument("bad_json", "the body escapes half of a UTF-16 surrogate pair");
  }
  return CheckMembers(*doc, allowed);
}

Status CheckMembers(const rapidjson::Document& doc, std::initializer_list<std::string_view> allowed) {
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    std::string_view name(it->name.GetString(), it->name.GetStringLength());
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end())
      return Status::InvalidArgument("unknown_field", "unknown field \"" + ReplaceInvalidUtf8(name) + "\"");
  }
  return Status::Ok();
}

Result<std::optional<std::string>> StringField(const rapidjson::Document& doc, const char* name) {
  auto it = doc.FindMember(name);
  if (it == doc.MemberEnd()) return std::optional<std::string>();
  if (!it->value.IsString()) return Status::InvalidArgument("bad_field", std::string(name) + " must be a string");
  std::string_view value(it->value.GetString(), it->value.GetStringLength());
  // An ack means stored: PostgreSQL holds no U+0000 in text or jsonb, so a string with one is refused
  // here rather than acknowledged and then dead-lettered by the persister.
  if (value.find('\0') != std::string_view::npos)
    return Status::InvalidArgument("bad_field", std::string(name) + " must not contain U+0000 (NUL)");
  return std::optional<std::string>(std::string(value));
}

Result<Moderation> ModerationField(const rapidjson::Value& object, const char* name) {
  const Status bad = Status::InvalidArgument(
      "bad_field", std::string(name) + " must be tag, mask or block, or {\"mild\": .., \"strong\": ..} of those");
  auto it = object.FindMember(name);
  if (it == object.MemberEnd()) return Moderation{};
  auto policy = [](const rapidjson::Value& v) {
    return v.IsString() ? ParsePolicy(std::string_view(v.GetString(), v.GetStringLength())) : std::nullopt;
  };
  if (it->value.IsString()) {
    const std::optional<Policy> both = policy(it->value);
    if (!both) return bad;
    return Moderation{*both, *both};
  }
  if (!it->value.IsObject()) return bad;
  Moderation m;
  for (const auto& level : it->value.GetObject()) {
    const std::string_view key(level.name.GetString(), level.name.GetStringLength());
    const std::optional<Policy> p = policy(level.value);
    if (!p || (key != "mild" && key != "strong")) return bad;
    (key == "mild" ? m.mild : m.strong) = *p;
  }
  return m;
}

Result<std::optional<int64_t>> IntField(const rapidjson::Document& doc, const char* name) {
  auto it = doc.FindMember(name);
  if (it == doc.MemberEnd()) return std::optional<int64_t>();
  if (!it->value.IsInt64()) return Status::InvalidArgument("bad_field", std::string(name) + " must be an integer");
  return std::optional<int64_t>(it->value.GetInt64());
}

Result<uint64_t> IdField(const rapidjson::Document& doc, const char* name) {
  auto it = doc.FindMember(name);
  if (it == doc.MemberEnd()) return uint64_t{0};
  uint64_t id = 0;
  if (it->value.IsString()) {
    std::string_view digits(it->value.GetString(), it->value.GetStringLength());
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
    if (ec == std::errc() && p == digits.data() + digits.size() && id > 0) return id;
  }
  return Status::InvalidArgument("bad_field", std::string(name) + " must be an id (a decimal string)");
}

Result<std::optional<bool>> BoolField(const rapidjson::Document& doc, const char* name) {
  auto it = doc.FindMember(name);
  if (it == doc.MemberEnd()) return std::optional<bool>();
  if (!it->value.IsBool()) return Status::InvalidArgument("bad_field", std::string(name) + " must be true or false");
  return std::optional<bool>(it->value.GetBool());
}

Status CheckMessageText(std::string_view text) {
  size_t chars = 0;
  bool blank = true;
  for (unsigned char ch : text) {
    if ((ch & 0xC0) != 0x80) ++chars;  // count the first byte of each UTF-8 sequence
    if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') blank = false;
  }
  if (blank) return Status::InvalidArgument("empty_text", "text must not be empty");
  if (chars > kMaxTextChars)
    return Status::InvalidArgument("text_too_long", "text is longer than " + std::to_string(kMaxTextChars) + " characters");
  return Status::Ok();
}

Status CheckClientMessageId(std::string_view id) {
  if (id.empty() || id.size() > 64 ||
      !std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; }))
    return Status::InvalidArgument("bad_client_msg_id", "client_msg_id must be 1 to 64 printable ASCII characters");
  return Status::Ok();
}

}  // namespace chatpipe
