// One SMTP transaction over libcurl (MAIL FROM, RCPT TO, DATA), and what its outcome means for the
// question the mailer must answer: may this message have been delivered?
//
//   kAccepted   the server answered 250 to the end of DATA.
//   kTransient  certainly not delivered, try again later: a 4xx reply, or a failure (connection
//               refused, dropped, timed out, an unexpected greeting or login refusal) before the server
//               had been sent a single byte of the message body.
//   kPermanent  certainly not delivered, never try again: a 5xx reply to MAIL FROM, RCPT TO, DATA or the
//               end of DATA. `recipient_refused` says the recipient was refused at RCPT (a hard bounce:
//               the address is suppressed); a refusal at the end of DATA is about the message or our
//               sender (a spam verdict, DMARC, the size), and says nothing of the address.
//   kUnknown    the body was (being) sent and no verdict came back: the server may have accepted it.
//               The mailer never retries these, so that nothing is ever sent twice.
// A fresh connection per transaction (no reuse), so one transaction's failure never bleeds into the next.
#pragma once

#include <chrono>
#include <string>

namespace chatpipe::mail {

struct SmtpSettings {
  std::string url;        // smtp://host:port (smtps:// for TLS; user:password@ for AUTH)
  std::string mail_from;  // envelope sender
  std::chrono::milliseconds timeout{30000};  // the whole transaction
};

struct SmtpResult {
  enum Kind { kAccepted, kTransient, kPermanent, kUnknown } kind = kTransient;
  long code = 0;  // last SMTP reply code seen, 0 when none
  bool recipient_refused = false;
  std::string detail;  // for logs and dead letters
};

SmtpResult SendSmtp(const SmtpSettings& settings, const std::string& rcpt, const std::string& message);

}  // namespace chatpipe::mail
