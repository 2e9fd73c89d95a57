#include "common/redact.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

TEST(RedactUrl, HidesThePasswordOnly) {
  EXPECT_EQ(RedactUrl("smtps://mailer:s3cr3t@smtp.example.com:465"), "smtps://mailer:***@smtp.example.com:465");
  EXPECT_EQ(RedactUrl("smtp://u:p%40ss@h:25/x"), "smtp://u:***@h:25/x");
  EXPECT_EQ(RedactUrl("smtp://u:p@ss@h:25"), "smtp://u:***@h:25");
}

TEST(RedactUrl, LeavesUrlsWithoutASecretAlone) {
  for (const char* url : {"smtp://127.0.0.1:25", "smtp://user@h:25", "smtp://h:25/a@b", "/api/rooms?limit=5&before=9#x",
                          "http://127.0.0.1:8333"})
    EXPECT_EQ(RedactUrl(url), url);
}

TEST(RedactUrl, HidesTokensInTheQuery) {
  EXPECT_EQ(RedactUrl("/ws?token=eyJhbGciOi.eyJzdWIi.sig"), "/ws?token=***");
  EXPECT_EQ(RedactUrl("/ws?room=3&Token=abc&x=1#f"), "/ws?room=3&Token=***&x=1#f");
  EXPECT_EQ(RedactUrl("https://s3/b/k?X-Amz-Credential=AKIA&X-Amz-Signature=ff"),
            "https://s3/b/k?X-Amz-Credential=***&X-Amz-Signature=***");
  EXPECT_EQ(RedactUrl("http://u:pw@h?password=pw"), "http://u:***@h?password=***");
}

TEST(RedactConninfo, HidesThePasswordOfEveryForm) {
  EXPECT_EQ(RedactConninfo("host=db dbname=chat user=app password=hunter2"), "host=db dbname=chat user=app password=***");
  EXPECT_EQ(RedactConninfo("password = 'a b\\' c' host=db"), "password = *** host=db");
  EXPECT_EQ(RedactConninfo("postgresql://app:hunter2@db:5432/chat?sslmode=require"),
            "postgresql://app:***@db:5432/chat?sslmode=require");
  EXPECT_EQ(RedactConninfo("postgres://app@db/chat?password=hunter2"), "postgres://app@db/chat?password=***");
  EXPECT_EQ(RedactConninfo("dbname=chatpipe"), "dbname=chatpipe");
}

TEST(RedactSecret, ReplacesEveryOccurrence) {
  EXPECT_EQ(RedactSecret("bad \"pw\" near pw", "pw"), "bad \"***\" near ***");
  EXPECT_EQ(RedactSecret("nothing", ""), "nothing");
}

}  // namespace
}  // namespace chatpipe
