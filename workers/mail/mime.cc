#include "workers/mail/mime.h"

#include <cstdio>
#include <ctime>
#include <functional>

namespace chatpipe::mail {
namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) v |= uint8_t(in[i + 1]) << 8;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool PlainAscii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) return false;
  return true;
}

// Header values must never carry a line break of their own (header injection).
std::string OneLine(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c == '\r' || c == '\n') c = ' ';
  return out;
}

std::string Mailbox(const std::string& name, const std::string& addr) {
  if (name.empty()) return "<" + addr + ">";
  bool plain = PlainAscii(name);
  if (!plain) return EncodeHeaderText(name) + " <" + addr + ">";
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\" <" + addr + ">";
}

void Part(std::string* out, const char* type, const std::string& body) {
  *out += "Content-Type: ";
  *out += type;
  *out += "; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  *out += Base64Lines(body);
}

}  // namespace

bool ValidAddress(std::string_view a) {
  if (a.empty() || a.size() > 254) return false;
  size_t at = a.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == a.size() || a.find('@', at + 1) != std::string_view::npos)
    return false;
  for (char c : a) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
    if (std::string_view("<>()[]\\,;:\"").find(c) != std::string_view::npos) return false;
  }
  std::string_view domain = a.substr(at + 1);
  return domain.front() != '.' && domain.back() != '.' && domain.find("..") == std::string_view::npos;
}

std::string EncodeHeaderText(std::string_view s) {
  std::string line = OneLine(s);
  if (PlainAscii(line)) return line;
  // 45 bytes make 60 base64 characters: with "=?UTF-8?B?" and "?=", 72 <= 75 (RFC 2047 section 2).
  std::string out;
  size_t i = 0;
  while (i < line.size()) {
    size_t end = std::min(line.size(), i + 45);
    // Back off to the start of a UTF-8 character: an encoded word must hold whole characters.
    while (end < line.size() && end > i && (static_cast<unsigned char>(line[end]) & 0xC0) == 0x80) --end;
    if (end == i) end = std::min(line.size(), i + 45);  // not UTF-8 at all: split anyway
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64(std::string_view(line).substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string Base64Lines(std::string_view data) {
  std::string b = Base64(data), out;
  for (size_t i = 0; i < b.size(); i += 76) {
    out.append(b, i, 76);
    out += "\r\n";
  }
  return out;
}

std::string RfcDate(int64_t ms) {
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t t = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday], tm.tm_mday,
           kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string ComposeMessage(const Email& e) {
  std::string m;
  m += "From: " + Mailbox(e.from_name, e.from_addr) + "\r\n";
  m += "To: <" + e.to_addr + ">\r\n";
  m += "Subject: " + EncodeHeaderText(e.subject) + "\r\n";
  m += "Date: " + RfcDate(e.date_ms) + "\r\n";
  m += "Message-ID: <" + OneLine(e.message_id) + ">\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Auto-Submitted: auto-generated\r\n";  // RFC 3834: autoresponders must not answer
  for (const auto& [name, value] : e.headers) m += OneLine(name) + ": " + EncodeHeaderText(value) + "\r\n";
  bool both = !e.text.empty() && !e.html.empty();
  if (!both) {
    Part(&m, e.html.empty() ? "text/plain" : "text/html", e.html.empty() ? e.text : e.html);
    return m;
  }
  // "=_" cannot occur in base64 text, so the boundary never collides with a part's content.
  char hash[17];
  snprintf(hash, sizeof hash, "%016zx", std::hash<std::string>()(e.message_id));
  std::string boundary = std::string("=_chatpipe_") + hash;
  m += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
  m += "--" + boundary + "\r\n";
  Part(&m, "text/plain", e.text);
  m += "--" + boundary + "\r\n";
  Part(&m, "text/html", e.html);
  m += "--" + boundary + "--\r\n";
  return m;
}

}  // namespace chatpipe::mail
