#include "workers/mail/mail_settings.h"

#include <gtest/gtest.h>

namespace chatpipe::mail {
namespace {

TEST(RedactedUrl, HidesThePasswordOnly) {
  EXPECT_EQ(RedactedUrl("smtps://mailer:s3cr3t@smtp.example.com:465"), "smtps://mailer:***@smtp.example.com:465");
  EXPECT_EQ(RedactedUrl("smtp://u:p%40ss@h:25/x"), "smtp://u:***@h:25/x");
  EXPECT_EQ(RedactedUrl("smtp://u:p@ss@h:25"), "smtp://u:***@h:25");
}

TEST(RedactedUrl, LeavesUrlsWithoutAPasswordAlone) {
  EXPECT_EQ(RedactedUrl("smtp://127.0.0.1:25"), "smtp://127.0.0.1:25");
  EXPECT_EQ(RedactedUrl("smtp://user@h:25"), "smtp://user@h:25");
  EXPECT_EQ(RedactedUrl("smtp://h:25/a@b"), "smtp://h:25/a@b");
}

}  // namespace
}  // namespace chatpipe::mail
