// The RFC 5322 text of one notification e-mail: headers (UTF-8 words encoded per RFC 2047), a stable
// Message-ID, and a multipart/alternative body with the text and HTML parts in base64 (safe for any UTF-8
// and any line length). Pure functions: no I/O, so every rule here is unit-tested.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chatpipe::mail {

struct Email {
  std::string from_name;  // display name, may be empty
  std::string from_addr;
  std::string to_addr;
  std::string subject;
  std::string text;        // empty: no text part
  std::string html;        // empty: no HTML part
  std::string message_id;  // without the angle brackets, e.g. "42.1700000000000000@example.org"
  int64_t date_ms = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, e.g. X-Chatpipe-Outbox
};

// A plain addr-spec we are willing to hand to SMTP: local@domain, printable ASCII, no spaces, brackets,
// quotes or commas, at most 254 bytes. Anything else is refused before it can reach a command line.
bool ValidAddress(std::string_view addr);
// The header value for `s`: itself when plain printable ASCII, else RFC 2047 base64 words of at most
// 75 characters, split on UTF-8 character boundaries and folded onto continuation lines.
std::string EncodeHeaderText(std::string_view s);
// `data` in base64, broken into CRLF-terminated lines of 76 characters.
std::string Base64Lines(std::string_view data);
// "Tue, 14 Nov 2023 22:13:20 +0000" for a time in ms since the epoch.
std::string RfcDate(int64_t ms);
// The whole message, CRLF line ends, ready for SMTP DATA.
std::string ComposeMessage(const Email& e);

}  // namespace chatpipe::mail
