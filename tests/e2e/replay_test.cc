// `chatpipe replay` on the real stack: the real binary as a child process, messages sent through
// ingress, the topic read back by range, filter and format; Ctrl-C; retention and the PostgreSQL
// fallback; no consumer group.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <rapidjson/document.h>
#include <sys/stat.h>

#include <csignal>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "cli/replay_command.h"
#include "cli/replay_format.h"
#include "common/events.h"
#include "common/message_id.h"
#include "common/rfc3339.h"
#include "queue/kafka.h"
#include "tests/support/stack_test_base.h"

namespace chatpipe::test {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// RFC 4180 rows (quoted fields may hold commas, quotes and newlines).
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += text[++i];
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
    } else {
      field += c;
    }
  }
  EXPECT_TRUE(!quoted && field.empty() && row.empty()) << "the CSV ends inside a row";
  return rows;
}

// The consumer groups the broker knows.
std::set<std::string> Groups(const std::string& brokers) {
  std::set<std::string> out;
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  const rd_kafka_group_list* list = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_list_groups(rk, nullptr, &list, 10000);
  EXPECT_EQ(e, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(e);
  for (int i = 0; list && i < list->group_cnt; ++i) out.insert(list->groups[i].group);
  if (list) rd_kafka_group_list_destroy(list);
  rd_kafka_destroy(rk);
  return out;
}

// Deletes the records of `topic` before each partition's offset, as retention would.
void DeleteRecords(const std::string& brokers, const std::string& topic, const std::map<int32_t, int64_t>& before) {
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  rd_kafka_topic_partition_list_t* offsets = rd_kafka_topic_partition_list_new(static_cast<int>(before.size()));
  for (const auto& [p, o] : before) rd_kafka_topic_partition_list_add(offsets, topic.c_str(), p)->offset = o;
  rd_kafka_DeleteRecords_t* del = rd_kafka_DeleteRecords_new(offsets);
  rd_kafka_topic_partition_list_destroy(offsets);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_DeleteRecords(rk, &del, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  ASSERT_NE(ev, nullptr);
  EXPECT_EQ(rd_kafka_event_error(ev), RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_event_error_string(ev);
  const rd_kafka_topic_partition_list_t* done =
      rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
  for (int i = 0; done && i < done->cnt; ++i) EXPECT_EQ(done->elems[i].err, RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_event_destroy(ev);
  rd_kafka_DeleteRecords_destroy(del);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
}

struct ReplayRun {
  int exit_code = -1;
  std::string output;  // what it wrote to --output
  std::string log;     // its stderr
};

class ReplayTestBase : public StackTest {
 protected:
  using StackTest::StackTest;

  void SetUp() override {
    StackTest::SetUp();
    if (HasFatalFailure()) return;
    auto dir = TempDir::Create("replay");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
  }

  std::vector<std::string> Args(const std::vector<std::string>& extra, const std::string& out) const {
    std::vector<std::string> argv = {CHATPIPE_BINARY, "replay", "--kafka", config().kafka_brokers, "--pg",
                                     config().pg_conninfo, "--namespace", config().ns, "--output", out};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  ReplayRun Replay(const std::vector<std::string>& extra) {
    ReplayRun r;
    const std::string out = dir_->path() + "/out" + std::to_string(++runs_), log = out + ".log";
    auto child = ChildProcess::Spawn(Args(extra, out), log);
    EXPECT_TRUE(child.ok());
    if (!child.ok()) return r;
    r.exit_code = (*child)->Wait(std::chrono::seconds(60));
    r.output = ReadAll(out);
    r.log = ReadAll(log);
    return r;
  }

  const CommonConfig& config() const { return stack->config(); }
  std::unique_ptr<TempDir> dir_;
  int runs_ = 0;
};

// Messages sent through ingress in three phases with time between them.
class ReplayTest : public ReplayTestBase {
 protected:
  ReplayTest() : ReplayTestBase(Start::kIngressAndPersister) {}

  struct Sent {
    std::string id;
    int64_t room = 0;
    std::string user;
  };

  void SendOne(const TestUser& user, int64_t room, const std::string& text, std::vector<Sent>* sent) {
    auto r = stack->Call("POST", "/api/rooms/" + std::to_string(room) + "/messages", user,
                         "{\"text\":\"" + text + "\"}");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, 202) << r->body;
    auto body = ParseJson(r->body);
    ASSERT_TRUE(body.ok());
    sent->push_back({body->doc["id"].GetString(), room, user.name});
  }

  // A time after everything sent so far was produced, and before anything sent after it: a record's
  // timestamp is taken before its send is answered, and an event's ts when it is accepted.
  int64_t Boundary() {
    const int64_t b = static_cast<int64_t>(NowMs()) + 1;
    EXPECT_TRUE(WaitFor([b] { return static_cast<int64_t>(NowMs()) >= b; }));
    return b;
  }

  void SendPhases() {
    ASSERT_TRUE(RegisterWithRoom("ana", "alpha", &ana_, &alpha_));
    auto bea = stack->Register("bea");
    ASSERT_TRUE(bea.ok());
    bea_ = *bea;
    auto beta = stack->CreateRoom(ana_, "beta");
    ASSERT_TRUE(beta.ok());
    beta_ = *beta;
    for (int phase = 0; phase < 3; ++phase) {
      if (phase > 0) bounds_.push_back(Boundary());
      for (int i = 0; i < 3; ++i) {
        ASSERT_NO_FATAL_FAILURE(SendOne(ana_, alpha_, "a" + std::to_string(phase) + std::to_string(i), &phases_[phase]));
        ASSERT_NO_FATAL_FAILURE(SendOne(bea_, alpha_, "b" + std::to_string(phase) + std::to_string(i), &phases_[phase]));
        ASSERT_NO_FATAL_FAILURE(SendOne(ana_, beta_, "c, \\\"" + std::to_string(phase) + std::to_string(i) + "\\\"",
                                        &phases_[phase]));
      }
    }
  }

  // The ids of `sent` that pass `keep`, per room, in sending order.
  static std::map<int64_t, std::vector<std::string>> PerRoom(const std::vector<Sent>& sent,
                                                             const std::function<bool(const Sent&)>& keep) {
    std::map<int64_t, std::vector<std::string>> out;
    for (const auto& s : sent)
      if (keep(s)) out[s.room].push_back(s.id);
    return out;
  }

  // The ids of a JSON Lines output, per room, in file order; every line a chat event.
  static std::map<int64_t, std::vector<std::string>> PerRoom(const std::string& jsonl) {
    std::map<int64_t, std::vector<std::string>> out;
    for (const auto& line : Lines(jsonl)) {
      auto e = DecodeChatEvent(line);
      EXPECT_TRUE(e.ok()) << line;
      if (e.ok()) out[e->room].push_back(std::to_string(e->id));
    }
    return out;
  }

  TestUser ana_, bea_;
  int64_t alpha_ = 0, beta_ = 0;
  std::vector<Sent> phases_[3];
  std::vector<int64_t> bounds_;
};

TEST_F(ReplayTest, ATimeRangeGivesExactlyTheMessagesSentInItInOrderPerRoomAsJsonLinesAndCsv) {
  ASSERT_NO_FATAL_FAILURE(SendPhases());
  const std::vector<std::string> range = {"--topic", "chat.messages", "--from", FormatRfc3339(bounds_[0]), "--to",
                                          FormatRfc3339(bounds_[1])};
  auto all = [](const Sent&) { return true; };

  ReplayRun jsonl = Replay(range);
  ASSERT_EQ(jsonl.exit_code, 0) << jsonl.log;
  EXPECT_EQ(PerRoom(jsonl.output), PerRoom(phases_[1], all));

  auto with_csv = range;
  with_csv.insert(with_csv.end(), {"--format", "csv"});
  ReplayRun csv = Replay(with_csv);
  ASSERT_EQ(csv.exit_code, 0) << csv.log;
  auto rows = ParseCsv(csv.output);
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0], KnownCsvColumns("chat.messages"));
  std::map<int64_t, std::vector<std::string>> csv_ids;
  std::map<std::string, std::string> texts;
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), rows[0].size());
    csv_ids[std::stoll(rows[i][2])].push_back(rows[i][3]);  // room, id
    texts[rows[i][3]] = rows[i][6];
  }
  EXPECT_EQ(csv_ids, PerRoom(phases_[1], all));
  // A text with a comma and quotes comes back whole.
  EXPECT_EQ(texts[phases_[1][2].id], "c, \"10\"");

  // No range: every phase, each room in order.
  ReplayRun whole = Replay({"--topic", "chat.messages"});
  ASSERT_EQ(whole.exit_code, 0) << whole.log;
  std::vector<Sent> everything;
  for (const auto& p : phases_) everything.insert(everything.end(), p.begin(), p.end());
  EXPECT_EQ(PerRoom(whole.output), PerRoom(everything, all));
}

TEST_F(ReplayTest, FiltersByRoomAndUser) {
  ASSERT_NO_FATAL_FAILURE(SendPhases());
  std::vector<Sent> sent;
  for (const auto& p : phases_) sent.insert(sent.end(), p.begin(), p.end());
  const int64_t beta = beta_, alpha = alpha_;

  ReplayRun room = Replay({"--topic", "chat.messages", "--room", std::to_string(beta_)});
  ASSERT_EQ(room.exit_code, 0) << room.log;
  EXPECT_EQ(PerRoom(room.output), PerRoom(sent, [beta](const Sent& s) { return s.room == beta; }));

  ReplayRun user = Replay({"--topic", "chat.messages", "--user", "BEA"});
  ASSERT_EQ(user.exit_code, 0) << user.log;
  EXPECT_EQ(PerRoom(user.output), PerRoom(sent, [](const Sent& s) { return s.user == "bea"; }));

  ReplayRun both = Replay({"--topic", "chat.messages", "--room", std::to_string(alpha_), "--user", "ana", "--from",
                     FormatRfc3339(bounds_[1])});
  ASSERT_EQ(both.exit_code, 0) << both.log;
  EXPECT_EQ(PerRoom(both.output),
            PerRoom(phases_[2], [alpha](const Sent& s) { return s.room == alpha && s.user == "ana"; }));
}

TEST_F(ReplayTest, PartitionOffsetListsSayWhereToStartAndEnd) {
  ASSERT_NO_FATAL_FAILURE(SendPhases());
  auto records = ReadTopic(config().kafka_brokers, config().Topic(kMessagesTopic));
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  std::map<int32_t, int64_t> ends;
  for (const auto& m : *records) ends[m.partition] = m.offset + 1;
  ASSERT_FALSE(ends.empty());
  // From offset 1 to one before the end of every partition that has messages.
  std::string from, to;
  std::vector<std::string> expected;
  for (const auto& [p, end] : ends) {
    from += (from.empty() ? "" : ",") + std::to_string(p) + ":1";
    to += (to.empty() ? "" : ",") + std::to_string(p) + ":" + std::to_string(end - 1);
  }
  for (const auto& m : *records)
    if (m.offset >= 1 && m.offset < ends[m.partition] - 1) expected.push_back(m.payload);
  ReplayRun r = Replay({"--topic", "chat.messages", "--from", from, "--to", to});
  ASSERT_EQ(r.exit_code, 0) << r.log;
  std::vector<std::string> got = Lines(r.output);
  std::sort(got.begin(), got.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(got, expected);

  ReplayRun bad = Replay({"--topic", "chat.messages", "--from", "99:0"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.log.find("no partition 99"), std::string::npos) << bad.log;
  ReplayRun bad_time = Replay({"--topic", "chat.messages", "--from", "2026-12-03T10:00:00"});
  EXPECT_EQ(bad_time.exit_code, 1);
  EXPECT_NE(bad_time.log.find("no zone"), std::string::npos) << bad_time.log;
}

TEST_F(ReplayTest, ARangePastRetentionComesFromPostgresqlExactlyAsTheTopicGaveIt) {
  ASSERT_TRUE(stack->StartWorkerProcess("tag").ok());  // the tags come back from its rows
  const int64_t from = static_cast<int64_t>(NowMs());
  ASSERT_NO_FATAL_FAILURE(SendPhases());
  ASSERT_TRUE(WaitFor([&] {
    auto a = stack->CountMessages(alpha_), b = stack->CountMessages(beta_);
    auto tags = stack->pg().Exec("SELECT count(*) FROM message_tags");
    return a.ok() && b.ok() && *a + *b == 27 && tags.ok() && tags->Int(0, 0) == 27;
  })) << "the persister and the tag worker did not store the messages";
  const std::vector<std::string> range = {"--topic", "chat.messages", "--from", FormatRfc3339(from)};
  ReplayRun before = Replay(range);
  ASSERT_EQ(before.exit_code, 0) << before.log;
  ASSERT_EQ(Lines(before.output).size(), 27u);
  auto csv_range = range;
  csv_range.insert(csv_range.end(), {"--format", "csv"});
  ReplayRun before_csv = Replay(csv_range);
  ASSERT_EQ(before_csv.exit_code, 0) << before_csv.log;

  // Retention takes all of the first partition that has messages, the older half of the others.
  auto records = ReadTopic(config().kafka_brokers, config().Topic(kMessagesTopic));
  ASSERT_TRUE(records.ok());
  std::map<int32_t, int64_t> cut;
  for (const auto& m : *records) cut[m.partition] = m.offset + 1;
  for (auto it = std::next(cut.begin()); it != cut.end(); ++it) it->second /= 2;
  ASSERT_NO_FATAL_FAILURE(DeleteRecords(config().kafka_brokers, config().Topic(kMessagesTopic), cut));

  ReplayRun without = Replay(range);
  ASSERT_EQ(without.exit_code, 0) << without.log;
  EXPECT_LT(Lines(without.output).size(), 27u);
  EXPECT_NE(without.log.find("--fallback-db reads it from PostgreSQL"), std::string::npos) << without.log;

  auto fallback = range;
  fallback.push_back("--fallback-db");
  ReplayRun with = Replay(fallback);
  ASSERT_EQ(with.exit_code, 0) << with.log;
  EXPECT_EQ(PerRoom(with.output), PerRoom(before.output));
  // Byte for byte, room by room: the events ingress produced.
  std::map<int64_t, std::vector<std::string>> lines_before, lines_with;
  for (const auto& l : Lines(before.output)) lines_before[DecodeChatEvent(l)->room].push_back(l);
  for (const auto& l : Lines(with.output)) lines_with[DecodeChatEvent(l)->room].push_back(l);
  EXPECT_EQ(lines_with, lines_before);
  // One room: PostgreSQL is asked for that room only, and gives the same.
  auto one_room = fallback;
  one_room.insert(one_room.end(), {"--room", std::to_string(alpha_)});
  ReplayRun alpha_only = Replay(one_room);
  ASSERT_EQ(alpha_only.exit_code, 0) << alpha_only.log;
  EXPECT_EQ(Lines(alpha_only.output), lines_before[alpha_]);

  fallback.insert(fallback.end(), {"--format", "csv"});
  ReplayRun with_csv = Replay(fallback);
  ASSERT_EQ(with_csv.exit_code, 0) << with_csv.log;
  auto rows_before = ParseCsv(before_csv.output), rows_with = ParseCsv(with_csv.output);
  std::sort(rows_before.begin() + 1, rows_before.end());
  std::sort(rows_with.begin() + 1, rows_with.end());
  EXPECT_EQ(rows_with, rows_before);

  // Retention takes the rest: the whole range is PostgreSQL's. Stopped during that part (here: before
  // it began), the run says so, though the Kafka part had nothing to do.
  for (auto& [partition, offset] : cut) offset = RD_KAFKA_OFFSET_END;  // all of it
  ASSERT_NO_FATAL_FAILURE(DeleteRecords(config().kafka_brokers, config().Topic(kMessagesTopic), cut));
  auto all_from_db = range;
  all_from_db.push_back("--fallback-db");
  ReplayRun db_only = Replay(all_from_db);
  ASSERT_EQ(db_only.exit_code, 0) << db_only.log;
  std::map<int64_t, std::vector<std::string>> lines_db;
  for (const auto& l : Lines(db_only.output)) lines_db[DecodeChatEvent(l)->room].push_back(l);
  EXPECT_EQ(lines_db, lines_before) << "the whole range from PostgreSQL";
  ReplayOptions stopped_options;
  stopped_options.common = config();
  stopped_options.topic = "chat.messages";
  stopped_options.from = FormatRfc3339(from);
  stopped_options.output = dir_->path() + "/stopped";
  stopped_options.fallback_db = true;
  stopped_options.progress = false;
  const std::atomic<bool> stop{true};
  auto stopped = RunReplay(stopped_options, stop);
  ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
  EXPECT_TRUE(stopped->stopped);
}

// A topic of many events written straight to Kafka, with nothing else running.
class BigReplayTest : public ReplayTestBase {
 protected:
  BigReplayTest() : ReplayTestBase(Start::kNothing) {}

  void Fill(int count) {
    // The whole topic fits in the producer's queue (its default of 100,000 made Produce refuse the
    // rest when the broker fell behind on a loaded machine), and a slow broker is waited for.
    auto producer = KafkaProducer::Create(config().kafka_brokers, {{"linger.ms", "50"},
                                                                   {"batch.num.messages", "10000"},
                                                                   {"queue.buffering.max.messages", std::to_string(count)},
                                                                   {"message.timeout.ms", "120000"}});
    ASSERT_TRUE(producer.ok());
    std::atomic<int> failed{0};
    ChatEvent e;
    e.user = {7, "ana"};
    for (int i = 0; i < count; ++i) {
      e.id = 1000000 + static_cast<uint64_t>(i);
      e.room = i % 16;
      e.ts_ms = 1796292000000 + i;
      e.text = "message number " + std::to_string(i) + ", with a comma";
      (*producer)->Produce(config().Topic(kMessagesTopic), std::to_string(e.room), EncodeChatEvent(e),
                           [&failed](Status s) {
                             if (!s.ok()) ++failed;
                           });
    }
    ASSERT_TRUE((*producer)->Flush(std::chrono::seconds(120)).ok());
    ASSERT_EQ(failed.load(), 0);
  }
};

TEST_F(BigReplayTest, CtrlCLeavesAValidFileAndSaysHowFarItGot) {
  constexpr int kEvents = 400000;
  ASSERT_NO_FATAL_FAILURE(Fill(kEvents));
  const std::string out = dir_->path() + "/big.jsonl", log = out + ".log";
  auto child = ChildProcess::Spawn(Args({"--topic", "chat.messages"}, out), log);
  ASSERT_TRUE(child.ok());
  // Mid-run: once some of it is in the file (written as FILE.partial until the end), freeze it, ask it
  // to stop, and let it go on.
  struct stat st {};
  const std::string partial = out + ".partial";
  ASSERT_TRUE(WaitFor([&] { return ::stat(partial.c_str(), &st) == 0 && st.st_size > 0; }));
  ASSERT_TRUE((*child)->Stop(std::chrono::seconds(10))) << "it finished before it could be interrupted";
  (*child)->Signal(SIGINT);
  (*child)->Signal(SIGCONT);
  EXPECT_EQ((*child)->Wait(std::chrono::seconds(30)), 130) << ReadAll(log);

  EXPECT_NE(::stat(partial.c_str(), &st), 0) << "a stopped replay's file has its name";
  auto lines = Lines(ReadAll(out));
  EXPECT_GT(lines.size(), 0u);
  EXPECT_LT(lines.size(), static_cast<size_t>(kEvents));
  for (const auto& line : lines) ASSERT_TRUE(DecodeChatEvent(line).ok()) << "a broken line: " << line;
  const std::string said = ReadAll(log);
  EXPECT_NE(said.find("stopped before the end of the range"), std::string::npos) << said;
  EXPECT_NE(said.find("partition 0: offsets 0.."), std::string::npos) << said;
  // How far it says each partition got is what the file holds: no filter, so a line an offset.
  const std::regex done_line(R"(partition (\d+): offsets (\d+)\.\.(-?\d+) done of)");
  size_t said_done = 0;
  for (auto it = std::sregex_iterator(said.begin(), said.end(), done_line); it != std::sregex_iterator(); ++it)
    said_done += static_cast<size_t>(std::stoll((*it)[3]) - std::stoll((*it)[2]) + 1);
  EXPECT_EQ(said_done, lines.size()) << said;
}

TEST_F(BigReplayTest, JoinsNoConsumerGroup) {
  ASSERT_NO_FATAL_FAILURE(Fill(1000));
  const std::set<std::string> before = Groups(config().kafka_brokers);
  ReplayRun r = Replay({"--topic", "chat.messages", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.log;
  EXPECT_EQ(ParseCsv(r.output).size(), 1001u);
  // Nothing runs in this test's namespace but the replay; other tests' groups carry their own namespace.
  for (const auto& g : Groups(config().kafka_brokers)) {
    EXPECT_EQ(g.find(config().ns), std::string::npos) << "a group of this test's namespace: " << g;
    if (!before.count(g)) {
      EXPECT_NE(g.rfind("chatpipe", 0), 0u) << "a new group of chatpipe's own: " << g;
    }
  }
}

}  // namespace
}  // namespace chatpipe::test
