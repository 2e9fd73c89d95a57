// The mailer's settings (`chatpipe worker mail --help`), each from a flag, else an environment variable,
// else the default below. docs/mail.md explains them.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

#include "common/status.h"

namespace chatpipe::mail {

struct MailSettings {
  std::string smtp_url = "smtp://127.0.0.1:25";   // --smtp, CHATPIPE_SMTP
  std::string mail_from = "notifications@localhost";  // --mail-from, CHATPIPE_MAIL_FROM
  std::string from_name = "chatpipe";             // --from-name, CHATPIPE_MAIL_FROM_NAME
  std::string templates_dir;                      // --templates, CHATPIPE_MAIL_TEMPLATES
  std::string app_url = "http://127.0.0.1:8080";  // --app-url, CHATPIPE_APP_URL (links in e-mails)
  int64_t window_ms = 120000;                     // --window-ms, CHATPIPE_MAIL_WINDOW_MS
  double rate = 1;                                // --rate, CHATPIPE_MAIL_RATE (sends per second)
  double burst = 5;                               // --burst, CHATPIPE_MAIL_BURST
  int64_t quota = 200;                            // --quota, CHATPIPE_MAIL_QUOTA (per rolling 24 h)
  int64_t smtp_timeout_ms = 30000;                // --smtp-timeout-ms, CHATPIPE_SMTP_TIMEOUT_MS
  int64_t lease_ms = 120000;                      // --lease-ms, CHATPIPE_MAIL_LEASE_MS
  int max_attempts = 8;                           // --max-attempts, CHATPIPE_MAIL_MAX_ATTEMPTS
  int64_t retry_base_ms = 5000;                   // --retry-base-ms, CHATPIPE_MAIL_RETRY_BASE_MS
  int64_t poll_ms = 200;                          // --poll-ms, CHATPIPE_MAIL_POLL_MS
};

void AddMailOptions(CLI::App* cmd, MailSettings* s);
// Refuses settings that cannot work (a lease no longer than the SMTP timeout, a rate of 0, ...).
Status ValidateMailSettings(const MailSettings& s);
// The domain of --mail-from, used in Message-IDs.
std::string MailDomain(const MailSettings& s);

}  // namespace chatpipe::mail
