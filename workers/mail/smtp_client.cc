#include "workers/mail/smtp_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace chatpipe::mail {
namespace {

struct Upload {
  const std::string* data;
  size_t offset = 0;
  bool body_started = false;  // curl asks for the body only after the server's 354 to DATA
};

size_t ReadBody(char* buf, size_t size, size_t n, void* arg) {
  auto* up = static_cast<Upload*>(arg);
  up->body_started = true;
  size_t len = std::min(size * n, up->data->size() - up->offset);
  memcpy(buf, up->data->data() + up->offset, len);
  up->offset += len;
  return len;
}

bool StartsWith(const char* s, const char* prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

}  // namespace

SmtpResult SendSmtp(const SmtpSettings& settings, const std::string& rcpt, const std::string& message) {
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  SmtpResult r;
  CURL* curl = curl_easy_init();
  if (!curl) {
    r.detail = "curl_easy_init failed";
    return r;
  }
  char err[CURL_ERROR_SIZE] = "";
  Upload up{&message};
  curl_slist* rcpts = curl_slist_append(nullptr, rcpt.c_str());
  long timeout = static_cast<long>(settings.timeout.count());
  curl_easy_setopt(curl, CURLOPT_URL, settings.url.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, settings.mail_from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpts);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadBody);
  curl_easy_setopt(curl, CURLOPT_READDATA, &up);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout, 10000L));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.code);
  curl_slist_free_all(rcpts);
  curl_easy_cleanup(curl);

  if (rc == CURLE_OK) {
    r.kind = SmtpResult::kAccepted;
    return r;
  }
  r.detail = err[0] ? err : curl_easy_strerror(rc);
  if (r.code) r.detail += " (SMTP " + std::to_string(r.code) + ")";
  // Which command the reply answered: curl names MAIL/RCPT/DATA failures; a bad reply once the body
  // has been sent answers the end of DATA.
  bool envelope = StartsWith(err, "MAIL failed") || StartsWith(err, "RCPT failed") || StartsWith(err, "DATA failed");
  bool end_of_data = up.body_started && rc == CURLE_WEIRD_SERVER_REPLY;
  if (r.code >= 500 && r.code <= 599 && (envelope || end_of_data)) {
    r.kind = SmtpResult::kPermanent;
    // Only RCPT's refusal is about the address. One at the end of DATA is about the message or us
    // (a spam verdict, DMARC, the size): suppressing the address would outlast the cause.
    r.recipient_refused = StartsWith(err, "RCPT failed");
  } else if (r.code >= 400 && r.code <= 499) {
    r.kind = SmtpResult::kTransient;  // the server said no, for now
  } else {
    r.kind = up.body_started ? SmtpResult::kUnknown : SmtpResult::kTransient;
  }
  return r;
}

}  // namespace chatpipe::mail
