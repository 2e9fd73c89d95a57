// Fuzzes client JSON intake (ingress/json_input.h) as a send does it: an object of known members,
// then each field by its type. Beyond "no crash and no sanitizer report": every string it accepts
// is one storage can keep (well-formed UTF-8, no U+0000), since what ingress accepts it acknowledges
// and PostgreSQL must then store; every refusal carries one of the stable codes clients see.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/utf8.h"
#include "ingress/json_input.h"

#define FUZZ_CHECK(cond) \
  if (!(cond)) __builtin_trap()

namespace {

bool KnownCode(const chatpipe::Status& s) {
  return s.name() == "bad_json" || s.name() == "unknown_field" || s.name() == "bad_field";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chatpipe;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  rapidjson::Document doc;
  const Status parsed = ParseObject(input, {"type", "room", "text", "client_msg_id", "limit", "private"}, &doc);
  if (!parsed.ok()) {
    FUZZ_CHECK(KnownCode(parsed));
    FUZZ_CHECK(IsValidUtf8(parsed.detail()));  // the detail goes back to the client in JSON
    return 0;
  }
  for (const char* name : {"type", "room", "text", "client_msg_id"}) {
    auto field = StringField(doc, name);
    if (!field.ok()) {
      FUZZ_CHECK(KnownCode(field.status()));
      continue;
    }
    if (!*field) continue;
    const std::string& value = **field;
    FUZZ_CHECK(IsValidUtf8(value));
    FUZZ_CHECK(value.find('\0') == std::string::npos);
    CheckMessageText(value);
    CheckClientMessageId(value);
  }
  auto limit = IntField(doc, "limit");
  FUZZ_CHECK(limit.ok() || KnownCode(limit.status()));
  auto is_private = BoolField(doc, "private");
  FUZZ_CHECK(is_private.ok() || KnownCode(is_private.status()));
  return 0;
}
