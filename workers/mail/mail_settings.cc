#include "workers/mail/mail_settings.h"

#include "workers/mail/mime.h"

namespace chatpipe::mail {

void AddMailOptions(CLI::App* cmd, MailSettings* s) {
#ifdef CHATPIPE_MAIL_TEMPLATES_DIR
  if (s->templates_dir.empty()) s->templates_dir = CHATPIPE_MAIL_TEMPLATES_DIR;
#endif
  cmd->add_option("--smtp", s->smtp_url, "SMTP server URL: smtp://host:port, smtps:// for TLS, user:password@ for AUTH (with a password, "
                  "prefer CHATPIPE_SMTP: a command line shows in ps; logs show the URL without it)")
      ->envname("CHATPIPE_SMTP")->capture_default_str();
  cmd->add_option("--mail-from", s->mail_from, "envelope and From: address of notification e-mails")
      ->envname("CHATPIPE_MAIL_FROM")->capture_default_str();
  cmd->add_option("--from-name", s->from_name, "display name in From:")
      ->envname("CHATPIPE_MAIL_FROM_NAME")->capture_default_str();
  cmd->add_option("--templates", s->templates_dir, "directory of e-mail templates (<name>.subject, .txt, .html)")
      ->envname("CHATPIPE_MAIL_TEMPLATES")->capture_default_str();
  cmd->add_option("--app-url", s->app_url, "base URL of the web app, for links in e-mails")
      ->envname("CHATPIPE_APP_URL")->capture_default_str();
  cmd->add_option("--window-ms", s->window_ms, "batching window: a user's mentions arriving within it go out as one e-mail")
      ->envname("CHATPIPE_MAIL_WINDOW_MS")->capture_default_str();
  cmd->add_option("--rate", s->rate, "max send rate (e-mails per second) of all mailers together")
      ->envname("CHATPIPE_MAIL_RATE")->capture_default_str();
  cmd->add_option("--burst", s->burst, "e-mails that may go at once after a quiet spell (token bucket size)")
      ->envname("CHATPIPE_MAIL_BURST")->capture_default_str();
  cmd->add_option("--quota", s->quota, "max e-mails in any rolling 24 hours, all mailers together")
      ->envname("CHATPIPE_MAIL_QUOTA")->capture_default_str();
  cmd->add_option("--smtp-timeout-ms", s->smtp_timeout_ms, "limit of one SMTP transaction")
      ->envname("CHATPIPE_SMTP_TIMEOUT_MS")->capture_default_str();
  cmd->add_option("--lease-ms", s->lease_ms,
                  "a send claimed longer ago than this whose mailer never reported is marked unknown "
                  "and dead-lettered, never resent (must exceed --smtp-timeout-ms)")
      ->envname("CHATPIPE_MAIL_LEASE_MS")->capture_default_str();
  cmd->add_option("--max-attempts", s->max_attempts, "SMTP attempts for transient failures before dead-lettering")
      ->envname("CHATPIPE_MAIL_MAX_ATTEMPTS")->capture_default_str();
  cmd->add_option("--retry-base-ms", s->retry_base_ms, "first retry delay after a transient failure; doubles per attempt")
      ->envname("CHATPIPE_MAIL_RETRY_BASE_MS")->capture_default_str();
  cmd->add_option("--poll-ms", s->poll_ms, "how often an idle mailer looks for due e-mails")
      ->envname("CHATPIPE_MAIL_POLL_MS")->capture_default_str();
}

Status ValidateMailSettings(const MailSettings& s) {
  auto bad = [](const std::string& why) { return Status::InvalidArgument("bad_flag", why); };
  if (!ValidAddress(s.mail_from)) return bad("--mail-from is not a plain address: " + s.mail_from);
  if (s.smtp_url.rfind("smtp://", 0) != 0 && s.smtp_url.rfind("smtps://", 0) != 0)
    return bad("--smtp must start with smtp:// or smtps://");
  if (s.window_ms < 0) return bad("--window-ms must be >= 0");
  if (!(s.rate > 0)) return bad("--rate must be > 0");
  if (!(s.burst >= 1)) return bad("--burst must be >= 1");
  if (s.quota < 0) return bad("--quota must be >= 0");
  if (s.smtp_timeout_ms <= 0) return bad("--smtp-timeout-ms must be > 0");
  if (s.lease_ms <= s.smtp_timeout_ms) return bad("--lease-ms must exceed --smtp-timeout-ms");
  if (s.max_attempts < 1) return bad("--max-attempts must be >= 1");
  if (s.retry_base_ms < 0 || s.poll_ms <= 0) return bad("--retry-base-ms must be >= 0 and --poll-ms > 0");
  return Status::Ok();
}

std::string MailDomain(const MailSettings& s) { return s.mail_from.substr(s.mail_from.find('@') + 1); }

}  // namespace chatpipe::mail
