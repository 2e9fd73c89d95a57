// Strict reading of client JSON (HTTP bodies and WebSocket frames): one object, only known members,
// each of the expected type. Refusals carry the stable codes clients see: bad_json, unknown_field,
// bad_field.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "common/moderation.h"
#include "common/status.h"

namespace chatpipe {

Status ParseObject(std::string_view text, std::initializer_list<std::string_view> allowed, rapidjson::Document* doc);
// Refuses an object holding a member not in `allowed`.
Status CheckMembers(const rapidjson::Document& doc, std::initializer_list<std::string_view> allowed);

// Typed member access: absent is nullopt; present with the wrong type is an error, and so is a string
// storage cannot keep: one holding U+0000 or an escaped lone surrogate. Every other code point (C0
// controls, U+007F, noncharacters, U+FEFF...) is kept as sent.
Result<std::optional<std::string>> StringField(const rapidjson::Document& doc, const char* name);
Result<std::optional<int64_t>> IntField(const rapidjson::Document& doc, const char* name);
Result<std::optional<bool>> BoolField(const rapidjson::Document& doc, const char* name);
// A room's moderation (common/moderation.h) in the member `name` of `object`: one policy name for both
// levels ("mask"), or {"mild":..,"strong":..} where a level left out is "tag"; absent, tag for both.
Result<Moderation> ModerationField(const rapidjson::Value& object, const char* name);
// A 64-bit id sent as a decimal string (JavaScript numbers cannot hold it): 0 when absent.
Result<uint64_t> IdField(const rapidjson::Document& doc, const char* name);

// Chat text: not blank, at most kMaxTextChars characters (code points).
inline constexpr size_t kMaxTextChars = 4000;
Status CheckMessageText(std::string_view text);
// client_msg_id: 1 to 64 printable ASCII characters.
Status CheckClientMessageId(std::string_view id);

}  // namespace chatpipe
