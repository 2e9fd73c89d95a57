// `chatpipe worker mail` end to end: real PostgreSQL, Redis, Kafka and ops/smtp-sink, the mailer run as
// child processes, input written to chat.notify with KafkaProducer and to users/mentions with SQL.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <signal.h>

#include <iostream>
#include <map>
#include <set>

#include "storage/redis_client.h"
#include "tests/support/mail_env.h"
#include "tests/support/wait.h"

namespace chatpipe::mail {
namespace {

using std::chrono::seconds;
using test::ChildProcess;
using test::MailTestEnv;
using test::WaitFor;

// Fields of a dead letter by JSON pointer; a missing one reads as a marker that fails comparisons.
std::string Str(const rapidjson::Document& d, const char* pointer) {
  const rapidjson::Value* v = rapidjson::Pointer(pointer).Get(d);
  return v && v->IsString() ? v->GetString() : std::string("<no string at ") + pointer + ">";
}
int64_t Int(const rapidjson::Document& d, const char* pointer) {
  const rapidjson::Value* v = rapidjson::Pointer(pointer).Get(d);
  return v && v->IsInt64() ? v->GetInt64() : -1;
}

class MailWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    env_ = MailTestEnv::Create(&error);
    ASSERT_TRUE(env_) << error;
  }
  void TearDown() override {
    if (HasFailure() && env_) std::cerr << env_->Logs();
  }

  void StartSink(const std::string& reject = "", const std::string& defer = "", const std::string& refuse_content = "") {
    Status s = env_->StartSink(reject, defer, refuse_content);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  ChildProcess* StartMailer(std::vector<std::string> flags) {
    auto child = env_->StartMailer(flags);
    EXPECT_TRUE(child.ok()) << child.status().ToString();
    return child.ok() ? *child : nullptr;
  }
  void Produce(int64_t mention, int64_t user, const std::string& text) {
    Status s = env_->Produce(env_->MentionEvent(mention, user, text));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  int64_t Count(const std::string& where) {
    return env_->QueryInt("SELECT count(*) FROM mail_outbox WHERE " + where);
  }
  std::string State(int64_t user) {
    return env_->QueryText("SELECT string_agg(state, ',' ORDER BY id) FROM mail_outbox WHERE user_id = " +
                           std::to_string(user));
  }

  std::unique_ptr<MailTestEnv> env_;
};

TEST_F(MailWorkerTest, ThreeQuickMentionsMakeOneEmail) {
  StartSink();
  int64_t bea = env_->AddUser("bea", "bea@example.test");
  int64_t m1 = env_->AddMention(bea, 1), m2 = env_->AddMention(bea, 1), m3 = env_->AddMention(bea, 1);
  ASSERT_TRUE(StartMailer({"--window-ms", "1000"}));
  // Mentioned in another order than written: the e-mail lists them as written.
  auto e1 = env_->MentionEvent(m1, bea, "second @bea"), e2 = env_->MentionEvent(m2, bea, "first @bea"),
       e3 = env_->MentionEvent(m3, bea, "third @bea");
  e1.message_ts = 1700000000200;
  e2.message_ts = 1700000000100;
  e3.message_ts = 1700000000300;
  for (const Mention* e : {&e1, &e2, &e3, &e2}) {  // the repeated event is a replay: it changes nothing
    Status s = env_->Produce(*e);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  ASSERT_TRUE(WaitFor([&] { return State(bea) == "sent"; }, seconds(60))) << State(bea);
  EXPECT_EQ(env_->QueryInt("SELECT count(DISTINCT outbox_id) FROM mail_mentions WHERE user_id = " + std::to_string(bea)), 1);
  EXPECT_EQ(env_->QueryInt("SELECT count(*) FROM mail_mentions"), 3);
  auto mails = env_->SinkMails();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].rcpt, "bea@example.test");
  EXPECT_EQ(mails[0].subject, "3 new mentions in #general");
  EXPECT_EQ(mails[0].message_id, env_->QueryText("SELECT message_id FROM mail_outbox"));
  for (const char* text : {"first @bea", "second @bea", "third @bea"}) {
    EXPECT_NE(mails[0].text.find(text), std::string::npos) << text << " in\n" << mails[0].text;
    EXPECT_NE(mails[0].html.find(text), std::string::npos) << text;
  }
  EXPECT_LT(mails[0].text.find("first @bea"), mails[0].text.find("second @bea"));
  EXPECT_LT(mails[0].text.find("second @bea"), mails[0].text.find("third @bea"));
  EXPECT_EQ(env_->QueryText("SELECT mention_ids::text FROM mail_outbox"),
            "{" + std::to_string(m2) + "," + std::to_string(m1) + "," + std::to_string(m3) + "}");  // as written
}

TEST_F(MailWorkerTest, MentionsReadBeforeTheWindowEndsAreNotMailed) {
  StartSink();
  int64_t ana = env_->AddUser("ana2", "ana@example.test");
  int64_t bob = env_->AddUser("bob", "bob@example.test");
  int64_t read_a = env_->AddMention(ana, 1), unread_a = env_->AddMention(ana, 1);
  int64_t read_b = env_->AddMention(bob, 1);
  ASSERT_TRUE(StartMailer({"--window-ms", "3000"}));
  Produce(read_a, ana, "already seen by ana");
  Produce(unread_a, ana, "still unread by ana");
  Produce(read_b, bob, "already seen by bob");
  ASSERT_TRUE(WaitFor([&] { return env_->QueryInt("SELECT count(*) FROM mail_mentions") == 3; }, seconds(60)));
  // Read while the windows are still open (checked in the same statement).
  EXPECT_EQ(env_->QueryInt("WITH r AS (UPDATE mentions SET read_at = now() WHERE id IN (" + std::to_string(read_a) +
                           "," + std::to_string(read_b) +
                           ") AND NOT EXISTS (SELECT 1 FROM mail_outbox WHERE state <> 'open' OR due_at <= now())"
                           " RETURNING 1) SELECT count(*) FROM r"),
            2);

  ASSERT_TRUE(WaitFor([&] { return State(ana) == "sent" && State(bob) == "dropped"; }, seconds(60)))
      << State(ana) << " " << State(bob);
  auto mails = env_->SinkMails();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].rcpt, "ana@example.test");
  EXPECT_EQ(mails[0].subject, "1 new mention in #general");
  EXPECT_NE(mails[0].text.find("still unread by ana"), std::string::npos);
  EXPECT_EQ(mails[0].text.find("already seen"), std::string::npos);
  EXPECT_EQ(env_->QueryText("SELECT last_error FROM mail_outbox WHERE user_id = " + std::to_string(bob)).rfind("AllRead", 0), 0u);
}

TEST_F(MailWorkerTest, TwoMailersTogetherKeepTheRateAndTheQuota) {
  StartSink();
  const double rate = 4, burst = 2;
  const int quota = 10, users = 16;
  // Both mailers send, by construction: the test decides which rows are due when. The window is longer
  // than the test, so a row falls due only when `release` ends its window.
  std::vector<std::string> flags = {"--window-ms", "600000", "--rate", "4", "--burst", "2", "--quota", "10"};
  auto release = [&](const std::string& limit) {
    return env_->QueryInt("WITH r AS (UPDATE mail_outbox SET due_at = now() WHERE id IN (SELECT id FROM mail_outbox"
                          " WHERE state = 'open' AND due_at > now() ORDER BY id " + limit + ") RETURNING 1)"
                          " SELECT count(*) FROM r");
  };
  // Claims are "host:pid:nonce:n" (workers/mail/mail_worker.cc).
  auto sent_by = [&](const ChildProcess* mailer) {
    return Count("state = 'sent' AND claim ~ ':" + std::to_string(mailer->pid()) + ":[0-9a-f]+:[0-9]+$'");
  };
  ChildProcess* a = StartMailer(flags);
  ASSERT_TRUE(a);
  for (int i = 0; i < users; ++i) {
    int64_t u = env_->AddUser("u" + std::to_string(i), "u" + std::to_string(i) + "@example.test");
    Produce(env_->AddMention(u, 1), u, "hello u" + std::to_string(i));
  }
  ASSERT_TRUE(WaitFor([&] { return Count("state = 'open'") == users; }, seconds(60))) << Count("state = 'open'");

  // A alone sends two. Then nothing is due, so A holds no row, claim or admission when it is stopped.
  ASSERT_EQ(release("LIMIT 2"), 2);
  ASSERT_TRUE(WaitFor([&] { return sent_by(a) == 2; }, seconds(30))) << sent_by(a) << " sent by A";
  ASSERT_TRUE(a->Stop(seconds(10)));
  // B alone sends two more. One spare row: a query A wrote just before it stopped may still lock one
  // row (B skips it); A sends that one once it runs again.
  ChildProcess* b = StartMailer(flags);
  ASSERT_TRUE(b);
  ASSERT_EQ(release("LIMIT 3"), 3);
  ASSERT_TRUE(WaitFor([&] { return sent_by(b) >= 2; }, seconds(30))) << sent_by(b) << " sent by B";
  EXPECT_EQ(sent_by(a), 2);
  // Now both run together on the rest, sharing what is left of the bucket and the quota.
  a->Signal(SIGCONT);
  ASSERT_EQ(release(""), users - 5);

  // Done when every row is sent or deferred by the quota (or, if the quota leaks, as soon as it has).
  ASSERT_TRUE(WaitFor([&] {
    return Count("state = 'sent' OR (state = 'retry' AND last_error LIKE 'DailyQuotaExceeded%')") == users ||
           Count("state = 'sent'") > quota;
  }, seconds(90))) << Count("state = 'sent'") << " sent";
  ASSERT_EQ(Count("state = 'sent'"), quota);

  auto mails = env_->SinkMails();
  ASSERT_EQ(mails.size(), static_cast<size_t>(quota));
  // Deferred until the rolling 24 hours have room again, not retried in a loop.
  EXPECT_EQ(Count("state = 'retry' AND due_at > now() + interval '23 hours'"), users - quota);
  RedisClient redis(env_->config().RedisShards());
  auto counted = redis.Command({"ZCARD", env_->config().RedisPrefix() + "{mail}:sent"});
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(counted->integer, quota);
  // Both mailers did send: the limits held across processes, not within one.
  EXPECT_GE(sent_by(a), 2);
  EXPECT_GE(sent_by(b), 2);
  EXPECT_EQ(sent_by(a) + sent_by(b), quota);
  EXPECT_EQ(env_->QueryInt("SELECT count(DISTINCT regexp_replace(claim, ':[0-9]+$', '')) FROM mail_outbox"
                           " WHERE state = 'sent'"),
            2);
  // The token bucket allows at most burst + rate * t sends in any span t. Receive times add SMTP
  // latency to the admission times, so one send of slack. (A was stopped between sends, never
  // holding an admission, so no send was held back.)
  for (size_t i = 0; i < mails.size(); ++i)
    for (size_t j = i; j < mails.size(); ++j) {
      double span = (mails[j].received_ms - mails[i].received_ms) / 1000.0;
      EXPECT_LE(static_cast<double>(j - i + 1), burst + rate * span + 1)
          << "mails " << i << ".." << j << " arrived within " << span << " s";
    }
}

TEST_F(MailWorkerTest, SuppressedAddressIsNeverMailed) {
  StartSink();
  int64_t sup = env_->AddUser("sup", "Complainer@Example.test");
  int64_t ok = env_->AddUser("ok", "ok@example.test");
  ASSERT_EQ(env_->QueryInt("WITH s AS (INSERT INTO mail_suppressions (address, reason) VALUES"
                           " ('complainer@example.test', 'complaint') RETURNING 1) SELECT count(*) FROM s"),
            1);
  ASSERT_TRUE(StartMailer({"--window-ms", "100"}));
  int64_t ms = env_->AddMention(sup, 1);
  Produce(ms, sup, "to the suppressed");
  Produce(env_->AddMention(ok, 1), ok, "to the fine one");
  ASSERT_TRUE(WaitFor([&] { return State(sup) == "dead" && State(ok) == "sent"; }, seconds(60)))
      << State(sup) << " " << State(ok);
  auto mails = env_->SinkMails();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].rcpt, "ok@example.test");
  EXPECT_EQ(Count("attempts > 0 AND user_id = " + std::to_string(sup)), 0);
  auto letters = env_->DeadLetters(1, seconds(30));
  ASSERT_EQ(letters.size(), 1u);
  rapidjson::Document d;
  d.Parse(letters[0].c_str());
  ASSERT_TRUE(d.IsObject()) << letters[0];
  EXPECT_EQ(Str(d, "/code"), std::string("MessageRejected"));
  EXPECT_NE(Str(d, "/reason").find("suppression list"), std::string::npos);
  EXPECT_EQ(Int(d, "/user_id"), sup);
  EXPECT_EQ(Int(d, "/mention_ids/0"), ms);
}

TEST_F(MailWorkerTest, PermanentSmtpFailureIsDeadLetteredAndSuppressed) {
  StartSink("^bounce@");
  int64_t u = env_->AddUser("bouncy", "bounce@example.test");
  ASSERT_TRUE(StartMailer({"--window-ms", "100"}));
  int64_t first = env_->AddMention(u, 1);
  Produce(first, u, "will bounce");
  ASSERT_TRUE(WaitFor([&] { return State(u) == "dead"; }, seconds(60))) << State(u);
  auto letters = env_->DeadLetters(1, seconds(30));
  ASSERT_EQ(letters.size(), 1u);
  rapidjson::Document d;
  d.Parse(letters[0].c_str());
  ASSERT_TRUE(d.IsObject()) << letters[0];
  EXPECT_EQ(Str(d, "/source"), std::string("mail"));
  EXPECT_EQ(Str(d, "/code"), std::string("MessageRejected"));
  EXPECT_NE(Str(d, "/reason").find("550"), std::string::npos) << letters[0];
  EXPECT_EQ(Str(d, "/to"), std::string("bounce@example.test"));
  EXPECT_EQ(Str(d, "/mentions/0/message/text"), std::string("will bounce"));
  EXPECT_EQ(env_->QueryText("SELECT reason FROM mail_suppressions WHERE address = 'bounce@example.test'"), "bounce");

  // The next mention to the same address is refused without an SMTP attempt.
  Produce(env_->AddMention(u, 1), u, "after the bounce");
  ASSERT_TRUE(WaitFor([&] { return State(u) == "dead,dead"; }, seconds(60))) << State(u);
  EXPECT_EQ(env_->QueryInt("SELECT attempts FROM mail_outbox WHERE user_id = " + std::to_string(u) +
                           " ORDER BY id DESC LIMIT 1"),
            0);
  EXPECT_EQ(env_->DeadLetters(1, seconds(30)).size(), 1u);
  EXPECT_TRUE(env_->SinkMails().empty());
}

// A 5xx at the end of DATA refuses the message or our sender (a spam verdict, DMARC), not the address:
// the mail is dead-lettered, but the address is not suppressed, and its next mail is tried.
TEST_F(MailWorkerTest, ARefusalAtTheEndOfDataIsDeadLetteredWithoutSuppressingTheAddress) {
  StartSink("", "", "^spammed@");
  int64_t u = env_->AddUser("spammed", "spammed@example.test");
  ASSERT_TRUE(StartMailer({"--window-ms", "100"}));
  Produce(env_->AddMention(u, 1), u, "looks like spam");
  ASSERT_TRUE(WaitFor([&] { return State(u) == "dead"; }, seconds(60))) << State(u);
  auto letters = env_->DeadLetters(1, seconds(30));
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_NE(letters[0].find("554"), std::string::npos) << letters[0];
  EXPECT_EQ(env_->QueryInt("SELECT count(*) FROM mail_suppressions"), 0);
  // The next one is tried over SMTP (and refused the same way), not refused as suppressed.
  Produce(env_->AddMention(u, 1), u, "again");
  ASSERT_TRUE(WaitFor([&] { return State(u) == "dead,dead"; }, seconds(60))) << State(u);
  EXPECT_EQ(env_->QueryInt("SELECT attempts FROM mail_outbox WHERE user_id = " + std::to_string(u) +
                           " ORDER BY id DESC LIMIT 1"),
            1);
}

TEST_F(MailWorkerTest, TransientFailuresAreRetriedWithBackoffThenDeadLettered) {
  StartSink("", "^later@");
  int64_t u = env_->AddUser("later", "later@example.test");
  ASSERT_TRUE(StartMailer({"--window-ms", "100", "--max-attempts", "3", "--retry-base-ms", "200"}));
  Produce(env_->AddMention(u, 1), u, "deferred");
  ASSERT_TRUE(WaitFor([&] { return State(u) == "dead"; }, seconds(60))) << State(u);
  EXPECT_EQ(env_->QueryInt("SELECT attempts FROM mail_outbox"), 3);
  auto letters = env_->DeadLetters(1, seconds(30));
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_NE(letters[0].find("\"code\":\"ServiceUnavailable\""), std::string::npos) << letters[0];
  EXPECT_NE(letters[0].find("451"), std::string::npos) << letters[0];
  // A transient failure is not a bounce.
  EXPECT_EQ(env_->QueryInt("SELECT count(*) FROM mail_suppressions"), 0);
}

TEST_F(MailWorkerTest, KilledAndRestartedMailerSendsNothingTwice) {
  StartSink();
  const int users = 16;
  std::vector<std::string> flags = {"--window-ms", "100", "--rate", "8", "--burst", "1",
                                    "--lease-ms", "1500", "--smtp-timeout-ms", "1000"};
  ChildProcess* first = StartMailer(flags);
  ASSERT_TRUE(first);
  for (int i = 0; i < users; ++i) {
    int64_t u = env_->AddUser("k" + std::to_string(i), "k" + std::to_string(i) + "@example.test");
    Produce(env_->AddMention(u, 1), u, "hello k" + std::to_string(i));
  }
  ASSERT_TRUE(WaitFor([&] {
    return env_->QueryInt("SELECT count(*) FROM mail_mentions") == users && env_->SinkMails().size() >= 3;
  }, seconds(60)));
  first->Signal(SIGKILL);
  EXPECT_EQ(first->Wait(seconds(10)), -1);  // killed, not exited
  size_t before = env_->SinkMails().size();
  ASSERT_LT(before, static_cast<size_t>(users)) << "killed too late to be mid-run";

  ASSERT_TRUE(StartMailer(flags));
  ASSERT_TRUE(WaitFor([&] { return Count("state IN ('open', 'retry', 'sending')") == 0; }, seconds(90)))
      << env_->QueryText("SELECT string_agg(state, ',') FROM mail_outbox");

  auto mails = env_->SinkMails();
  std::map<std::string, int> per_message, per_rcpt;
  for (const auto& m : mails) {
    ++per_message[m.message_id];
    ++per_rcpt[m.rcpt];
  }
  for (const auto& [id, n] : per_message) EXPECT_EQ(n, 1) << "Message-ID " << id << " sent " << n << " times";
  for (const auto& [rcpt, n] : per_rcpt) EXPECT_EQ(n, 1) << rcpt << " got " << n << " e-mails";
  // Every row ended sent or, for a claim the kill interrupted, unknown (at most one per process).
  int64_t sent = Count("state = 'sent'"), unknown = Count("state = 'unknown'");
  EXPECT_EQ(sent + unknown, users);
  EXPECT_LE(unknown, 1);
  auto r = env_->pg().Exec("SELECT message_id FROM mail_outbox WHERE state = 'sent'");
  ASSERT_TRUE(r.ok());
  for (int i = 0; i < r->rows(); ++i)
    EXPECT_EQ(per_message[std::string(r->Text(i, 0))], 1) << "sent row without exactly one e-mail";
  EXPECT_GE(mails.size(), static_cast<size_t>(sent));
  EXPECT_LE(mails.size(), static_cast<size_t>(sent + unknown));
  if (unknown > 0) {
    EXPECT_EQ(env_->DeadLetters(1, seconds(30)).size(), 1u);
  }
}

}  // namespace
}  // namespace chatpipe::mail
