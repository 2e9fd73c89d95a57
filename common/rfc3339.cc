#include "common/rfc3339.h"

#include <chrono>
#include <string>

namespace chatpipe {
namespace {

// Reads exactly `n` digits at `*pos` into `*out`.
bool Digits(std::string_view s, size_t* pos, int n, int* out) {
  if (*pos + n > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, std::string_view any_of) {
  if (*pos >= s.size() || any_of.find(s[*pos]) == std::string_view::npos) return false;
  ++*pos;
  return true;
}

}  // namespace

Result<int64_t> ParseRfc3339(std::string_view s) {
  auto bad = [&](const char* why) {
    return Status::InvalidArgument("bad_time", "'" + std::string(s) + "' is not an RFC 3339 time (" + why + ")");
  };
  size_t pos = 0;
  int year, month, day, hour = 0, minute = 0, second = 0, millis = 0;
  if (!Digits(s, &pos, 4, &year) || !Expect(s, &pos, "-") || !Digits(s, &pos, 2, &month) || !Expect(s, &pos, "-") ||
      !Digits(s, &pos, 2, &day))
    return bad("want YYYY-MM-DD");
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(month), std::chrono::day(day)};
  if (!date.ok()) return bad("no such date");
  int64_t offset_min = 0;
  if (pos < s.size()) {
    if (!Expect(s, &pos, "Tt ") || !Digits(s, &pos, 2, &hour) || !Expect(s, &pos, ":") ||
        !Digits(s, &pos, 2, &minute) || !Expect(s, &pos, ":") || !Digits(s, &pos, 2, &second))
      return bad("want THH:MM:SS after the date");
    if (hour > 23 || minute > 59 || second > 60) return bad("no such time of day");
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      int digits = 0;
      for (; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos, ++digits)
        if (digits < 3) millis = millis * 10 + (s[pos] - '0');
      if (digits == 0) return bad("no digits after '.'");
      for (; digits < 3; ++digits) millis *= 10;
    }
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
      ++pos;
    } else {
      int sign = pos < s.size() && s[pos] == '-' ? -1 : 1;
      int oh, om;
      if (!Expect(s, &pos, "+-") || !Digits(s, &pos, 2, &oh) || !Expect(s, &pos, ":") || !Digits(s, &pos, 2, &om) ||
          oh > 23 || om > 59)
        return bad("want Z or +HH:MM at the end");
      offset_min = sign * (oh * 60 + om);
    }
    if (pos != s.size()) return bad("text after the time");
  }
  const int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  const int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_min * 60;
  return seconds * 1000 + millis;
}

}  // namespace chatpipe
