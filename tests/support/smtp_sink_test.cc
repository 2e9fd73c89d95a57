#include "tests/support/smtp_sink.h"

#include <gtest/gtest.h>

#include "tests/support/services.h"
#include "workers/mail/smtp_client.h"

namespace chatpipe::test {
namespace {

const char* kMessage =
    "From: notify@chatpipe.test\r\n"
    "To: bea@example.test\r\n"
    "Subject: Hello\r\n"
    "Message-ID: <m1@chatpipe.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative; boundary=\"b\"\r\n"
    "\r\n"
    "--b\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "aG9sYSBiZWE=\r\n"  // "hola bea"
    "--b\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "PHA+aG9sYTwvcD4=\r\n"  // "<p>hola</p>"
    "--b--\r\n";

TEST(SmtpSinkTest, KeepsWhatItAcceptsAndRefusesWhatItIsToldTo) {
  auto dir = TempDir::Create("chatpipe-sink-test");
  ASSERT_TRUE(dir.ok());
  auto sink = SmtpSink::Start((*dir)->path(), "refused@", "later@");
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  EXPECT_GT((*sink)->port(), 0);
  mail::SmtpSettings smtp{(*sink)->url(), "notify@chatpipe.test", std::chrono::seconds(10)};

  auto sent = mail::SendSmtp(smtp, "bea@example.test", kMessage);
  EXPECT_EQ(sent.kind, mail::SmtpResult::kAccepted) << sent.detail;
  auto refused = mail::SendSmtp(smtp, "refused@example.test", kMessage);
  EXPECT_EQ(refused.kind, mail::SmtpResult::kPermanent) << refused.detail;
  EXPECT_EQ(refused.code, 550);
  auto deferred = mail::SendSmtp(smtp, "later@example.test", kMessage);
  EXPECT_EQ(deferred.kind, mail::SmtpResult::kTransient) << deferred.detail;
  EXPECT_EQ(deferred.code, 451);

  auto mails = (*sink)->Mails();
  ASSERT_EQ(mails.size(), 1u) << (*sink)->Log();
  EXPECT_EQ(mails[0].rcpt, "bea@example.test");
  EXPECT_EQ(mails[0].subject, "Hello");
  EXPECT_EQ(mails[0].message_id, "m1@chatpipe.test");
  EXPECT_EQ(mails[0].text, "hola bea");
  EXPECT_EQ(mails[0].html, "<p>hola</p>");
  EXPECT_GT(mails[0].received_ms, 0);
}

}  // namespace
}  // namespace chatpipe::test
