#include "analysis/mention_parser.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "analysis/steps.h"
#include "common/utf8.h"

namespace chatpipe {
namespace {

constexpr size_t kMaxUserName = 32;  // ingress: [A-Za-z0-9_.-]{1,32}
constexpr size_t kMaxRoomName = 64;  // ingress: [a-z0-9][a-z0-9_-]{0,63}
constexpr char32_t kInvalid = 0xFFFD;

bool IsAlnum(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsNameChar(unsigned char c) { return IsAlnum(c) || c == '_' || c == '.' || c == '-'; }
bool IsRoomChar(unsigned char c) { return IsAlnum(c) || c == '_' || c == '-'; }
char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// The code point whose encoding starts at s[i]; *len gets its length (1 for a malformed byte).
char32_t DecodeAt(std::string_view s, size_t i, size_t* len) {
  const Utf8Char c = DecodeUtf8(s, i);
  *len = c.len;
  return c.valid() ? c.cp : kInvalid;
}

// The code point whose encoding ends right before s[end].
char32_t DecodeBefore(std::string_view s, size_t end) {
  size_t start = end - 1;
  while (start > 0 && end - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  size_t len = 0;
  char32_t c = DecodeAt(s, start, &len);
  return start + len == end ? c : kInvalid;
}

// Whitespace and punctuation that may stand right before a mention (and, when not ASCII, right after).
bool IsBoundary(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= '\t' && c <= '\r') || std::strchr("([{<\"'`,;:!?*~>)]}|", static_cast<int>(c));
  return c == 0x85 || c == 0xA0 || c == 0xA1 || c == 0xAB || c == 0xBB || c == 0xBF ||
         (c >= 0x2000 && c <= 0x206F) ||   // Unicode spaces, dashes, quotes, ellipsis
         (c >= 0x2190 && c <= 0x2BFF) ||   // arrows, symbols, dingbats
         (c >= 0x3000 && c <= 0x303F) ||   // CJK spaces and punctuation
         c == 0xFE0F ||                    // emoji presentation selector
         (c >= 0x1F000 && c <= 0x1FAFF);  // emoji
}

bool StartsMention(std::string_view s, size_t i) { return i == 0 || IsBoundary(DecodeBefore(s, i)); }

// What follows a name: the end, ASCII other than '@', or non-ASCII punctuation (not a letter).
bool EndsMention(std::string_view s, size_t j) {
  if (j == s.size()) return true;
  size_t len = 0;
  char32_t c = DecodeAt(s, j, &len);
  if (c == '@') return false;
  return c < 0x80 || IsBoundary(c);
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), Lower);
  return out;
}

// What has been kept so far, to drop repeats with one look each: the first candidate of each user
// (it determines the rest) and each room.
struct Seen {
  std::unordered_set<std::string> users, rooms;
};

void AddUserMention(std::string_view run, size_t max_users, Seen* seen, ParsedMentions* out) {
  // Past its last 32 characters a run cannot be a name; a long run of '.' or '-' is cut to them.
  while (run.size() > kMaxUserName && (run.back() == '.' || run.back() == '-')) {
    CHATPIPE_STEPS(1);
    run.remove_suffix(1);
  }
  std::vector<std::string> candidates;
  for (;;) {
    CHATPIPE_STEPS(run.size());
    if (!run.empty() && run.size() <= kMaxUserName) candidates.push_back(LowerAscii(run));
    if (run.empty() || (run.back() != '.' && run.back() != '-')) break;
    run.remove_suffix(1);
  }
  if (candidates.empty()) return;
  const std::string& shortest = candidates.back();
  if (shortest == "room" || shortest == "all") {
    out->room = true;
  } else if (shortest == "here") {
    out->here = true;
  } else if (!seen->users.contains(candidates.front())) {
    if (out->users.size() == max_users) {
      out->more_users = true;
      return;
    }
    seen->users.insert(candidates.front());
    out->users.push_back(std::move(candidates));
  }
}

}  // namespace

ParsedMentions ParseMentions(std::string_view text, size_t max_users) {
  ParsedMentions out;
  Seen seen;
  size_t i = 0;
  while (i < text.size()) {
    CHATPIPE_STEPS(1);
    char sigil = text[i];
    if ((sigil != '@' && sigil != '#') || !StartsMention(text, i)) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < text.size() && (sigil == '@' ? IsNameChar(text[j]) : IsRoomChar(text[j]))) ++j;
    CHATPIPE_STEPS(j - i);
    std::string_view run = text.substr(i + 1, j - i - 1);
    if (!run.empty() && EndsMention(text, j)) {
      if (sigil == '@') {
        AddUserMention(run, max_users, &seen, &out);
      } else if (IsAlnum(run.front()) && run.size() <= kMaxRoomName) {
        CHATPIPE_STEPS(run.size());
        std::string room = LowerAscii(run);
        if (seen.rooms.insert(room).second) out.rooms.push_back(std::move(room));
      }
    }
    i = j;
  }
  return out;
}

}  // namespace chatpipe
