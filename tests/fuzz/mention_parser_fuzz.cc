// Fuzzes the mention parser (analysis/mention_parser.h) on any bytes, as the mention worker runs it on
// every message. Beyond "no crash and no sanitizer report": every candidate keeps the documented name
// rules (users 1 to 32 of [a-z0-9_.-], longest first, each a prefix of the first; rooms 1 to 64 of
// [a-z0-9_-] starting with a letter or digit), appears after its sigil in the lower-cased text, and
// no mention or room repeats.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "analysis/mention_parser.h"

#define FUZZ_CHECK(cond) \
  if (!(cond)) __builtin_trap()

namespace {

bool AllOf(std::string_view s, std::string_view allowed) {
  return s.find_first_not_of(allowed) == std::string_view::npos;
}

constexpr std::string_view kRoomChars = "abcdefghijklmnopqrstuvwxyz0123456789_-";
constexpr std::string_view kUserChars = "abcdefghijklmnopqrstuvwxyz0123456789_.-";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chatpipe;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const ParsedMentions parsed = ParseMentions(text);
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });

  std::set<std::string> seen_users;
  for (const auto& candidates : parsed.users) {
    FUZZ_CHECK(!candidates.empty());
    FUZZ_CHECK(seen_users.insert(candidates.front()).second);
    FUZZ_CHECK(lower.find("@" + candidates.front()) != std::string::npos);
    for (size_t i = 0; i < candidates.size(); ++i) {
      const std::string& name = candidates[i];
      FUZZ_CHECK(!name.empty() && name.size() <= 32 && AllOf(name, kUserChars));
      FUZZ_CHECK(candidates.front().compare(0, name.size(), name) == 0);
      if (i > 0) FUZZ_CHECK(name.size() < candidates[i - 1].size());
    }
  }
  std::set<std::string> seen_rooms;
  for (const std::string& room : parsed.rooms) {
    FUZZ_CHECK(seen_rooms.insert(room).second);
    FUZZ_CHECK(!room.empty() && room.size() <= 64 && AllOf(room, kRoomChars) && room[0] != '_' && room[0] != '-');
    FUZZ_CHECK(lower.find("#" + room) != std::string::npos);
  }
  return 0;
}
