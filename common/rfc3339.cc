#include "common/rfc3339.h"

#include <chrono>
#include <cstdio>

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
    return Status::InvalidArgument("bad_time", "'" + std::string(s) + "' " + why);
  };
  size_t pos = 0;
  int year, month, day, hour, minute, second, millis = 0;
  if (!Digits(s, &pos, 4, &year) || !Expect(s, &pos, "-") || !Digits(s, &pos, 2, &month) || !Expect(s, &pos, "-") ||
      !Digits(s, &pos, 2, &day))
    return bad("is not an RFC 3339 time (YYYY-MM-DDTHH:MM:SSZ)");
  if (!Expect(s, &pos, "Tt ")) return bad("has no time of day (YYYY-MM-DDTHH:MM:SSZ)");
  if (!Digits(s, &pos, 2, &hour) || !Expect(s, &pos, ":") || !Digits(s, &pos, 2, &minute) || !Expect(s, &pos, ":") ||
      !Digits(s, &pos, 2, &second))
    return bad("has a malformed time of day (HH:MM:SS)");
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(month), std::chrono::day(day)};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return bad("is not a valid date and time");
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    for (; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos, ++digits)
      if (digits < 3) millis = millis * 10 + (s[pos] - '0');
    if (digits == 0) return bad("has an empty fraction of a second");
    for (; digits < 3; ++digits) millis *= 10;
  }
  int64_t offset_min = 0;
  if (!Expect(s, &pos, "Zz")) {
    if (pos >= s.size() || (s[pos] != '+' && s[pos] != '-')) return bad("has no zone (Z or +HH:MM)");
    const int sign = s[pos++] == '-' ? -1 : 1;
    int oh, om;
    if (!Digits(s, &pos, 2, &oh) || !Expect(s, &pos, ":") || !Digits(s, &pos, 2, &om) || oh > 23 || om > 59)
      return bad("has a malformed zone offset (+HH:MM)");
    offset_min = sign * (oh * 60 + om);
  }
  if (pos != s.size()) return bad("has text after the time");
  const int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  const int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_min * 60;
  return seconds * 1000 + millis;
}

std::string FormatRfc3339(int64_t ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds(ms)};
  const sys_days day = floor<days>(t);
  const year_month_day date{day};
  const hh_mm_ss<milliseconds> time{t - day};
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()), static_cast<int>(time.subseconds().count()));
  return buf;
}

}  // namespace chatpipe
