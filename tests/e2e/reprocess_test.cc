// Re-processing history through the whole stack, with the real binary: `chatpipe groups` (list, reset)
// and workers run over a range in a fresh group (`worker tag|mention|mail --group --from --to`).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "analysis/tagger.h"
#include "queue/kafka_admin.h"
#include "tests/support/stack_test_base.h"

namespace chatpipe::test {
namespace {

using namespace std::chrono_literals;

struct Outcome {
  int code = -1;
  std::string output;
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A time after everything produced so far and before anything produced next: the clock has passed it.
std::string Boundary() {
  const int64_t t = NowMs() + 1;
  EXPECT_TRUE(WaitFor([&] { return NowMs() > t; }, 1s));
  const std::time_t s = t / 1000;
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", std::gmtime(&s));
  return std::string(text) + "." + std::to_string(1000 + t % 1000).substr(1) + "Z";
}

class ReprocessTest : public StackTest {
 protected:
  ReprocessTest() : StackTest(Start::kIngressAndPersister) {}

  void SetUp() override {
    StackTest::SetUp();
    if (HasFatalFailure()) return;
    auto a = stack->Register("ana"), b = stack->Register("bea");
    ASSERT_TRUE(a.ok() && b.ok());
    ana = *a;
    bea = *b;
    auto room = stack->CreateRoom(ana, "general");
    ASSERT_TRUE(room.ok());
    general = *room;
    auto admin = KafkaAdmin::Create(stack->config().kafka_brokers, 30s);
    ASSERT_TRUE(admin.ok());
    admin_ = std::move(*admin);
    auto dir = TempDir::Create("reprocess");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
  }

  // `chatpipe <args...>` on this stack (its flags last, unless `stack_flags_last` is false and `args`
  // has them), run to its end (at most 60 s): exit code and output.
  Outcome Chatpipe(std::vector<std::string> args, bool stack_flags_last = true) {
    const CommonConfig& c = stack->config();
    args.insert(args.begin(), CHATPIPE_BINARY);
    if (stack_flags_last)
      args.insert(args.end(), {"--kafka", c.kafka_brokers, "--pg", c.pg_conninfo, "--redis", c.redis_addr,
                               "--namespace", c.ns});
    const std::string log = dir_->path() + "/run-" + std::to_string(runs_++);
    auto child = ChildProcess::Spawn(args, log);
    EXPECT_TRUE(child.ok());
    if (!child.ok()) return {};
    Outcome run;
    run.code = (*child)->Wait(60s);
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    run.output = text.str();
    return run;
  }

  void Post(const std::string& text) {
    auto r = stack->Call("POST", "/api/rooms/" + std::to_string(general) + "/messages", ana,
                         "{\"text\":\"" + text + "\"}");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 202) << r->body;
  }

  PartitionOffsets Committed(const std::string& group) {
    auto c = admin_->CommittedOffsets(stack->config().Group(group));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : PartitionOffsets{};
  }

  // `groups --json --group G`, parsed.
  Result<Json> Group(const std::string& group) {
    Outcome run = Chatpipe({"groups", "--json", "--group", group});
    const size_t json = run.output.find('{');
    if (run.code != 0 || json == std::string::npos) return Status::Internal(run.output);
    return ParseJson(run.output.substr(json));
  }

  static int64_t TotalLag(const Json& g) {
    int64_t lag = 0;
    for (const auto& p : g.doc["partitions"].GetArray()) lag += p["lag"].GetInt64();
    return lag;
  }

  TestUser ana, bea;
  int64_t general = 0;
  std::unique_ptr<KafkaAdmin> admin_;
  std::unique_ptr<TempDir> dir_;
  int runs_ = 0;
};

TEST_F(ReprocessTest, GroupsShowsLagAndResetIsADryRunUnlessExecutedAndRefusedWhileTheGroupIsLive) {
  for (const char* text : {"one", "two", "three"}) Post(text);
  ASSERT_TRUE(WaitFor([&] { return stack->CountMessages(general).value_or(0) == 3; }));
  // The persister (a live member) has committed everything: lag 0 (offsets are committed every second).
  Result<Json> live = Status::Internal("not asked");
  ASSERT_TRUE(WaitFor([&] {
    live = Group("persist");
    return live.ok() && live->doc["members"].Size() == 1 && TotalLag(*live) == 0;
  })) << (live.ok() ? live->text : live.status().ToString());
  EXPECT_STREQ(live->doc["state"].GetString(), "Stable");
  EXPECT_EQ(std::string(live->doc["members"][0]["client_id"].GetString()).rfind("chatpipe-persist-", 0), 0u);
  EXPECT_EQ(live->doc["members"][0]["partitions"].Size(), 4u);
  EXPECT_EQ(live->doc["partitions"].Size(), 4u);
  Outcome listed = Chatpipe({"groups"});
  ASSERT_EQ(listed.code, 0) << listed.output;
  EXPECT_NE(listed.output.find("persist (Stable, 1 live member(s))"), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find("chat.messages/0  committed "), std::string::npos) << listed.output;

  const PartitionOffsets before = Committed("persist");
  ASSERT_FALSE(before.empty());
  Outcome refused = Chatpipe({"groups", "reset", "persist", "--to-earliest", "--execute"});
  EXPECT_EQ(refused.code, 1) << refused.output;
  EXPECT_NE(refused.output.find("group persist has 1 live member(s)"), std::string::npos) << refused.output;
  EXPECT_EQ(Committed("persist"), before);

  stack->StopPersister();  // leaves the group
  ASSERT_TRUE(WaitFor([&] {
    auto d = admin_->DescribeGroup(stack->config().Group("persist"));
    return d.ok() && d->members.empty();
  }));
  Outcome dry = Chatpipe({"groups", "reset", "persist", "--to-earliest"});
  ASSERT_EQ(dry.code, 0) << dry.output;
  EXPECT_NE(dry.output.find("dry run: nothing changed"), std::string::npos) << dry.output;
  EXPECT_EQ(Committed("persist"), before);
  // The common flags before `reset` are the same flags: the same group, the same dry run.
  const CommonConfig& c = stack->config();
  Outcome flags_first = Chatpipe({"groups", "--kafka", c.kafka_brokers, "--pg", c.pg_conninfo, "--namespace", c.ns,
                                  "reset", "persist", "--to-earliest"},
                                 /*stack_flags_last=*/false);
  ASSERT_EQ(flags_first.code, 0) << flags_first.output;
  EXPECT_NE(flags_first.output.find("dry run: nothing changed"), std::string::npos) << flags_first.output;

  Outcome shifted = Chatpipe({"groups", "reset", "persist", "--shift", "-1", "--execute"});
  ASSERT_EQ(shifted.code, 0) << shifted.output;
  // One back from each committed offset; partitions with none (no message there) get their start, 0.
  PartitionOffsets expected;
  int64_t moved = 0;
  const std::string topic = stack->config().Topic(kMessagesTopic);
  for (int32_t p = 0; p < 4; ++p) {
    auto c = before.find({topic, p});
    expected[{topic, p}] = c == before.end() || c->second == 0 ? 0 : c->second - 1;
    moved += c != before.end() && c->second > 0;
  }
  EXPECT_EQ(Committed("persist"), expected);
  auto idle = Group("persist");
  ASSERT_TRUE(idle.ok()) << idle.status().ToString();
  EXPECT_EQ(idle->doc["members"].Size(), 0u);
  EXPECT_EQ(TotalLag(*idle), moved);

  // Bad input: no target, a bad time, two targets.
  EXPECT_EQ(Chatpipe({"groups", "reset", "persist"}).code, 2);
  EXPECT_EQ(Chatpipe({"groups", "reset", "persist", "--to-datetime", "yesterday"}).code, 2);
  EXPECT_NE(Chatpipe({"groups", "reset", "persist", "--to-earliest", "--to-latest"}).code, 0);
  EXPECT_EQ(Committed("persist"), expected);
}

// A new lexicon re-tags a span of history: `worker tag` in a fresh group over the span replaces the
// tags of the earlier version and ends by itself. Replaying the mentions and the notifications of the
// span too sends no e-mail a second time.
TEST_F(ReprocessTest, ARetagInAFreshGroupWithAChangedLexiconUpdatesTagsAndSendsNoEmail) {
  auto sink = stack->StartSmtpSink();
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  ASSERT_TRUE(stack->StartWorkerProcess("tag").ok());
  ASSERT_TRUE(stack->StartWorkerProcess("mention").ok());
  ASSERT_TRUE(stack->StartWorkerProcess("mail", {"--smtp", (*sink)->url(), "--window-ms", "100"}).ok());
  auto first = Tagger::Load(DefaultTagDataDir());
  ASSERT_TRUE(first.ok());
  const std::string v1 = (*first)->version();

  const std::string from = Boundary();
  Post("@bea what a zorblax");  // bea is offline: one e-mail
  Post("zorblax again");
  const std::string to = Boundary();
  const std::string tagged_by = "SELECT count(*) FROM message_tags WHERE tagger_version = ";
  auto count = [&](const std::string& sql) {
    auto r = stack->pg().Exec(sql.c_str());
    return r.ok() ? r->Int(0, 0) : -1;
  };
  ASSERT_TRUE(WaitFor([&] { return count(tagged_by + "'" + v1 + "'") == 2; }));
  ASSERT_TRUE(WaitFor([&] { return (*sink)->Mails().size() == 1; }));
  EXPECT_EQ((*sink)->Mails()[0].rcpt, "bea@example.com");
  const std::string notify_topic = stack->config().Topic(kNotifyTopic);
  auto notified = ReadTopic(stack->config().kafka_brokers, notify_topic);
  ASSERT_TRUE(notified.ok());
  ASSERT_EQ(notified->size(), 1u);

  // The changed lexicon: "zorblax" is now profane.
  const std::string lexicon = dir_->path() + "/data";
  std::filesystem::copy(DefaultTagDataDir(), lexicon, std::filesystem::copy_options::recursive);
  std::ofstream(lexicon + "/profanity_en.txt", std::ios::app) << "strong zorblax\n";
  auto second = Tagger::Load(lexicon);
  ASSERT_TRUE(second.ok());
  const std::string v2 = (*second)->version();
  ASSERT_NE(v1, v2);

  Outcome retag = Chatpipe({"worker", "tag", "--group", "retag-1", "--from", from, "--to", to, "--data", lexicon});
  ASSERT_EQ(retag.code, 0) << retag.output;  // it ended by itself
  EXPECT_NE(retag.output.find("re-tagging done with version " + v2 + ": 0 new row(s), 2 replaced (2 with other tags)"),
            std::string::npos)
      << retag.output;
  EXPECT_EQ(count(tagged_by + "'" + v2 + "' AND tags->'profanity'->>'flagged' = 'true'"), 2);

  Outcome mentions = Chatpipe({"worker", "mention", "--group", "remention-1", "--from", from, "--to", to});
  ASSERT_EQ(mentions.code, 0) << mentions.output;
  EXPECT_EQ(count("SELECT count(*) FROM mentions"), 1);
  Outcome mails = Chatpipe({"worker", "mail", "--group", "remail-1", "--from", from, "--to", Boundary(), "--smtp",
                        (*sink)->url()});
  ASSERT_EQ(mails.code, 0) << mails.output;
  EXPECT_EQ(count("SELECT count(*) FROM mail_mentions"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM mail_outbox WHERE template = 'mentions'"), 1);
  auto after = ReadTopic(stack->config().kafka_brokers, notify_topic);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), 1u);  // no new chat.notify event: nothing for a mailer to send
  EXPECT_EQ((*sink)->Mails().size(), 1u);

  // A range needs a group of its own, in order.
  EXPECT_EQ(Chatpipe({"worker", "tag", "--from", from, "--to", to}).code, 2);
  EXPECT_EQ(Chatpipe({"worker", "tag", "--group", "tag", "--from", from}).code, 2);
  EXPECT_EQ(Chatpipe({"worker", "tag", "--group", "retag-2", "--from", to, "--to", from}).code, 2);
  EXPECT_EQ(Chatpipe({"worker", "tag", "--group", "retag-2", "--from", "last month"}).code, 2);
  // No worker joins another's live group, for a range or for good: it would commit past what that
  // worker never applied.
  Outcome foreign = Chatpipe({"worker", "mention", "--group", "persist", "--from", from, "--to", to});
  EXPECT_EQ(foreign.code, 2);
  EXPECT_NE(foreign.output.find("live group of worker persist"), std::string::npos) << foreign.output;
  EXPECT_EQ(Chatpipe({"worker", "tag", "--group", "mention"}).code, 2);
}

}  // namespace
}  // namespace chatpipe::test
