#include "cli/replay_range.h"

#include <charconv>
#include <cstdio>

namespace chatpipe {
namespace {

Status Bad(std::string detail) { return Status::InvalidArgument("bad_range", std::move(detail)); }

// Exactly `n` digits at `*pos` of `s`, advancing past them.
bool Digits(std::string_view s, size_t* pos, size_t n, int* out) {
  if (*pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

Result<RangeBound> ParseOffsets(std::string_view text) {
  RangeBound b;
  b.kind = RangeBound::Kind::kOffsets;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (comma != std::string_view::npos && text.empty()) return Bad("a partition:offset list ends with a comma");
    size_t colon = item.find(':');
    if (colon == std::string_view::npos) return Bad("'" + std::string(item) + "' is not partition:offset");
    int32_t partition = 0;
    int64_t offset = 0;
    auto p = std::from_chars(item.data(), item.data() + colon, partition);
    auto o = std::from_chars(item.data() + colon + 1, item.data() + item.size(), offset);
    if (p.ec != std::errc() || p.ptr != item.data() + colon || o.ec != std::errc() ||
        o.ptr != item.data() + item.size() || partition < 0 || offset < 0)
      return Bad("'" + std::string(item) + "' is not partition:offset (two non-negative integers)");
    if (!b.offsets.emplace(partition, offset).second)
      return Bad("partition " + std::to_string(partition) + " is given twice");
  }
  if (b.offsets.empty()) return Bad("empty partition:offset list");
  return b;
}

}  // namespace

Result<int64_t> ParseRfc3339(std::string_view s) {
  size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!Digits(s, &pos, 4, &year) || !Expect(s, &pos, '-') || !Digits(s, &pos, 2, &month) ||
      !Expect(s, &pos, '-') || !Digits(s, &pos, 2, &day))
    return Bad("'" + std::string(s) + "' is not an RFC 3339 time (YYYY-MM-DDTHH:MM:SSZ)");
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' '))
    return Bad("'" + std::string(s) + "' has no time of day (YYYY-MM-DDTHH:MM:SSZ)");
  ++pos;
  if (!Digits(s, &pos, 2, &hour) || !Expect(s, &pos, ':') || !Digits(s, &pos, 2, &minute) ||
      !Expect(s, &pos, ':') || !Digits(s, &pos, 2, &second))
    return Bad("'" + std::string(s) + "' has a malformed time of day (HH:MM:SS)");
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 || minute > 59 ||
      second > 60)
    return Bad("'" + std::string(s) + "' is not a valid date and time");
  int ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) ms = ms * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return Bad("'" + std::string(s) + "' has an empty fraction of a second");
    for (int i = digits; i < 3; ++i) ms *= 10;
  }
  int zone_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int zh, zm;
    if (!Digits(s, &pos, 2, &zh) || !Expect(s, &pos, ':') || !Digits(s, &pos, 2, &zm) || zh > 23 || zm > 59)
      return Bad("'" + std::string(s) + "' has a malformed zone offset (±HH:MM)");
    zone_minutes = sign * (zh * 60 + zm);
  } else {
    return Bad("'" + std::string(s) + "' has no zone (Z or ±HH:MM)");
  }
  if (pos != s.size()) return Bad("'" + std::string(s) + "' has text after the time");
  if (second == 60) second = 59;  // a leap second: the instant just before the next minute
  int64_t days = DaysFromCivil(year, month, day);
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - zone_minutes * 60;
  return secs * 1000 + ms;
}

std::string FormatRfc3339(int64_t ms) {
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int millis = static_cast<int>(ms - secs * 1000);
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t rest = secs - days * 86400;
  int64_t y;
  int m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", static_cast<long long>(y), m, d,
                static_cast<int>(rest / 3600), static_cast<int>(rest / 60 % 60), static_cast<int>(rest % 60), millis);
  return buf;
}

Result<RangeBound> ParseRangeBound(std::string_view text) {
  RangeBound b;
  if (text == "earliest") return b;
  if (text == "latest") {
    b.kind = RangeBound::Kind::kLatest;
    return b;
  }
  // A time starts with a four-digit year and a dash; a list starts with a partition and a colon.
  if (text.size() > 4 && text[4] == '-') {
    auto ms = ParseRfc3339(text);
    if (!ms.ok()) return ms.status();
    b.kind = RangeBound::Kind::kTime;
    b.time_ms = *ms;
    return b;
  }
  if (text.find(':') != std::string_view::npos) return ParseOffsets(text);
  return Bad("'" + std::string(text) + "' is none of earliest, latest, an RFC 3339 time, partition:offset,...");
}

}  // namespace chatpipe
