// The mention worker against the real PostgreSQL, Redis and Kafka.
#include "workers/mention/mention_worker.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <map>

#include "storage/redis_keys.h"
#include "tests/support/redis_subscriber.h"
#include "tests/support/topic_reader.h"
#include "tests/support/wait.h"
#include "tests/support/worker_env.h"
#include "workers/consume/worker_metrics.h"

namespace chatpipe {
namespace {

using namespace std::chrono_literals;
using test::Subscriber;
using test::TopicReader;
using test::WaitFor;
using test::WorkerThread;

int64_t MentionEvents() { return WorkerMetrics::For("mention").events.value(); }

const std::string kSentinel = R"({"type":"sentinel"})";

class MentionWorkerTest : public test::WorkerEnvTest {
 protected:
  void SetUp() override {
    WorkerEnvTest::SetUp();
    if (HasFatalFailure()) return;
    ana_ = Must(env_->CreateUser("ana", "ana@example.com"));
    rodo_ = Must(env_->CreateUser("Rodo", "rodo@example.com"));  // names match case-insensitively
    bea_ = Must(env_->CreateUser("bea", "bea@example.com"));
    carl_ = Must(env_->CreateUser("carl"));                         // no address
    dora_ = Must(env_->CreateUser("dora", "dora@example.com", false));  // wants no e-mail
    general_ = Must(env_->CreateRoom("general", false, ana_));
    secret_ = Must(env_->CreateRoom("secret", true, ana_));
    ASSERT_TRUE(env_->AddMember(secret_, rodo_).ok());
    ASSERT_TRUE(env_->AddMember(secret_, bea_).ok());
    for (int64_t user : {ana_, rodo_, bea_, carl_, dora_}) {
      auto sub = Subscriber::Create(env_->config(), {Channel(user)});
      ASSERT_TRUE(sub.ok());
      subs_[user] = std::move(*sub);
    }
    auto notify = TopicReader::Create(env_->config(), env_->config().Topic(kNotifyTopic));
    ASSERT_TRUE(notify.ok());
    notify_ = std::move(*notify);
  }

  int64_t Must(Result<int64_t> r) {
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : 0;
  }

  std::string Channel(int64_t user) { return UserChannel(env_->config().RedisPrefix(), user); }

  std::unique_ptr<WorkerThread> StartWorker(const std::string& group, size_t max_mentions = 20) {
    auto worker = std::make_shared<MentionWorker>(env_->config(), MentionWorkerOptions{500, group, max_mentions});
    EXPECT_TRUE(worker->Start().ok());
    return std::make_unique<WorkerThread>([worker](const std::atomic<bool>& stop) { worker->Run(stop); });
  }

  // Produces the events and waits until a running worker has applied them and stored their offsets.
  void ProduceAndWait(const std::vector<ChatEvent>& events) {
    const int64_t before = MentionEvents();
    ASSERT_TRUE(env_->Produce(events).ok());
    ASSERT_TRUE(WaitFor([&] { return MentionEvents() >= before + static_cast<int64_t>(events.size()); }));
  }

  // Every frame published on the user's channel so far: a sentinel published now closes the list.
  std::vector<std::string> Frames(int64_t user) {
    EXPECT_TRUE(env_->redis().Command({"PUBLISH", Channel(user), kSentinel}).ok());
    std::vector<std::string> frames;
    for (;;) {
      auto next = subs_[user]->Next(10s);
      if (!next.ok()) {
        ADD_FAILURE() << next.status().ToString();
        return frames;
      }
      if (*next == kSentinel) return frames;
      frames.push_back(*next);
    }
  }

  // Every chat.notify event so far, by user: a sentinel keyed by each user (the same partition as
  // that user's events, produced after them) closes each list.
  std::map<int64_t, std::vector<std::string>> NotifyEvents() {
    std::vector<int64_t> users = {ana_, rodo_, bea_, carl_, dora_};
    auto producer = KafkaProducer::Create(env_->config().kafka_brokers);
    EXPECT_TRUE(producer.ok());
    std::atomic<int> delivered{0};
    for (int64_t user : users)
      (*producer)->Produce(env_->config().Topic(kNotifyTopic), std::to_string(user), kSentinel,
                           [&](Status s) { delivered += s.ok(); });
    EXPECT_TRUE((*producer)->Flush(10s).ok());
    EXPECT_EQ(delivered.load(), static_cast<int>(users.size()));
    std::map<int64_t, std::vector<std::string>> out;
    size_t sentinels = 0;
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (sentinels < users.size() && std::chrono::steady_clock::now() < deadline) {
      for (const auto& m : notify_->Read(1, 100ms)) {
        if (m.payload == kSentinel)
          ++sentinels;
        else
          out[std::stoll(m.key)].push_back(m.payload);
      }
    }
    EXPECT_EQ(sentinels, users.size());
    return out;
  }

  // (user, kind) of each mention of the message.
  std::map<int64_t, std::string> Mentions(const ChatEvent& e) {
    auto r = env_->pg().Exec("SELECT user_id, kind FROM mentions WHERE message_id = $1", {std::to_string(e.id)});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::map<int64_t, std::string> out;
    for (int i = 0; r.ok() && i < r->rows(); ++i) out[r->Int(i, 0)] = std::string(r->Text(i, 1));
    return out;
  }

  int64_t ana_ = 0, rodo_ = 0, bea_ = 0, carl_ = 0, dora_ = 0, general_ = 0, secret_ = 0;
  std::map<int64_t, std::unique_ptr<Subscriber>> subs_;
  std::unique_ptr<TopicReader> notify_;
};

rapidjson::Document Parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  EXPECT_FALSE(d.HasParseError()) << json;
  return d;
}

TEST_F(MentionWorkerTest, StoredOnceNotifiedLiveAndMailedOnceEvenWhenReplayed) {
  ASSERT_TRUE(env_->SetOnline(bea_).ok());
  auto worker = StartWorker("mention");
  ChatEvent e = env_->Event(general_, ana_, "ana",
                            "hola @rodo, @Bea? y @carl. @dora! Mail ana@example.com, @ana, @nobody");
  e.client_msg_id = "m-1";
  ProduceAndWait({e});

  const std::map<int64_t, std::string> expected = {
      {rodo_, "user"}, {bea_, "user"}, {carl_, "user"}, {dora_, "user"}};
  EXPECT_EQ(Mentions(e), expected);  // not the sender, not an unknown name, not an address

  auto id_of = [&](int64_t user) {
    return *env_->QueryInt("SELECT id FROM mentions WHERE user_id = " + std::to_string(user) +
                           " AND message_id = " + std::to_string(e.id));
  };
  for (int64_t user : {rodo_, bea_, carl_, dora_}) {
    auto frames = Frames(user);
    ASSERT_EQ(frames.size(), 1u) << "user " << user;
    auto d = Parse(frames[0]);
    ASSERT_TRUE(d.IsObject());
    EXPECT_STREQ(d["type"].GetString(), "notification");
    const auto& m = d["mention"];
    EXPECT_EQ(m["id"].GetInt64(), id_of(user));
    EXPECT_STREQ(m["kind"].GetString(), "user");
    EXPECT_FALSE(m["read"].GetBool());
    EXPECT_EQ(m["room"]["id"].GetInt64(), general_);
    EXPECT_STREQ(m["room"]["name"].GetString(), "general");
    EXPECT_EQ(m["message"]["id"].GetString(), std::to_string(e.id));
    EXPECT_EQ(m["message"]["text"].GetString(), e.text);
    EXPECT_EQ(m["message"]["ts"].GetInt64(), e.ts_ms);
    EXPECT_EQ(m["message"]["user"]["id"].GetInt64(), ana_);
    EXPECT_STREQ(m["message"]["user"]["name"].GetString(), "ana");
  }
  EXPECT_TRUE(Frames(ana_).empty());

  // Only rodo is offline with e-mail on: bea is online, carl has no address, dora wants no e-mail.
  auto mail = NotifyEvents();
  ASSERT_EQ(mail[rodo_].size(), 1u);
  EXPECT_TRUE(mail[bea_].empty() && mail[carl_].empty() && mail[dora_].empty() && mail[ana_].empty());
  auto d = Parse(mail[rodo_][0]);
  EXPECT_STREQ(d["type"].GetString(), "mention");
  EXPECT_EQ(d["mention_id"].GetInt64(), id_of(rodo_));
  EXPECT_EQ(d["user_id"].GetInt64(), rodo_);
  EXPECT_EQ(d["room"]["id"].GetInt64(), general_);
  EXPECT_STREQ(d["room"]["name"].GetString(), "general");
  EXPECT_EQ(d["message"]["id"].GetString(), std::to_string(e.id));
  EXPECT_EQ(d["message"]["text"].GetString(), e.text);
  EXPECT_EQ(d["message"]["ts"].GetInt64(), e.ts_ms);
  EXPECT_EQ(d["from"]["id"].GetInt64(), ana_);
  EXPECT_STREQ(d["from"]["name"].GetString(), "ana");
  EXPECT_GT(d["ts"].GetInt64(), 0);

  // The client resends the message (a new id, the same client_msg_id): nobody is mentioned again.
  ChatEvent retry = env_->Event(general_, ana_, "ana", e.text);
  retry.client_msg_id = "m-1";
  ProduceAndWait({retry});
  EXPECT_TRUE(Mentions(retry).empty());
  worker.reset();

  // A replay from the beginning by a new group: no row, frame or e-mail event twice.
  const int64_t before = MentionEvents();
  auto replay = StartWorker("mention-replay");
  ASSERT_TRUE(WaitFor([&] { return MentionEvents() >= before + 2; }));
  replay.reset();
  EXPECT_EQ(*env_->QueryInt("SELECT count(*) FROM mentions"), 4);
  for (int64_t user : {ana_, rodo_, bea_, carl_, dora_}) EXPECT_TRUE(Frames(user).empty()) << "user " << user;
  auto again = NotifyEvents();
  EXPECT_TRUE(again[rodo_].empty());
}

TEST_F(MentionWorkerTest, PrivateRoomNotifiesItsMembersOnly) {
  ASSERT_TRUE(env_->SetPresent(secret_, rodo_).ok());
  ASSERT_TRUE(env_->SetPresent(secret_, carl_).ok());  // a stale entry: carl is no member
  auto worker = StartWorker("mention");
  ChatEvent all = env_->Event(secret_, ana_, "ana", "@room the plan; cc @carl @dora");
  ChatEvent here = env_->Event(secret_, ana_, "ana", "@here anyone?");
  ProduceAndWait({all, here});

  EXPECT_EQ(Mentions(all), (std::map<int64_t, std::string>{{rodo_, "room"}, {bea_, "room"}}));
  EXPECT_EQ(Mentions(here), (std::map<int64_t, std::string>{{rodo_, "here"}}));
  EXPECT_EQ(Frames(rodo_).size(), 2u);
  EXPECT_EQ(Frames(bea_).size(), 1u);
  for (int64_t user : {ana_, carl_, dora_}) EXPECT_TRUE(Frames(user).empty()) << "user " << user;
  auto mail = NotifyEvents();  // rodo and bea are offline with e-mail on
  EXPECT_EQ(mail[rodo_].size(), 2u);
  EXPECT_EQ(mail[bea_].size(), 1u);
  EXPECT_TRUE(mail[carl_].empty() && mail[dora_].empty() && mail[ana_].empty());
}

// Ingress refuses a message naming more users than --max-mentions; one that reached the topic anyway
// notifies only its first names (repeats and @room do not count).
TEST_F(MentionWorkerTest, OnlyTheFirstMaxMentionsNamesAreNotified) {
  auto worker = StartWorker("mention", 2);
  ChatEvent e = env_->Event(general_, ana_, "ana", "@rodo @RODO @bea @carl @dora");
  ProduceAndWait({e});
  EXPECT_EQ(Mentions(e), (std::map<int64_t, std::string>{{rodo_, "user"}, {bea_, "user"}}));
  EXPECT_TRUE(Frames(carl_).empty());
  EXPECT_TRUE(Frames(dora_).empty());
}

TEST_F(MentionWorkerTest, PublicRoomAllMeansPostersAndPresentUsers) {
  // bea has posted in general; carl is in it now; dora was, but her entry has expired.
  ASSERT_TRUE(env_->pg()
                  .Exec("INSERT INTO messages (id, room_id, pos, user_id, user_name, body, ts) "
                        "VALUES (1, $1, 1, $2, 'bea', 'hi', 0)",
                        {std::to_string(general_), std::to_string(bea_)})
                  .ok());
  ASSERT_TRUE(env_->SetPresent(general_, carl_).ok());
  ASSERT_TRUE(env_->SetPresent(general_, dora_, -1s).ok());
  ASSERT_TRUE(env_->SetPresent(general_, 999999).ok());  // no such user
  auto worker = StartWorker("mention");
  ChatEvent all = env_->Event(general_, ana_, "ana", "@all and @rodo: news");
  ChatEvent here = env_->Event(general_, ana_, "ana", "who is @here?");
  ProduceAndWait({all, here});
  EXPECT_EQ(Mentions(all), (std::map<int64_t, std::string>{{rodo_, "user"}, {bea_, "room"}, {carl_, "room"}}));
  EXPECT_EQ(Mentions(here), (std::map<int64_t, std::string>{{carl_, "here"}}));
  auto frames = Frames(carl_);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_STREQ(Parse(frames[0])["mention"]["kind"].GetString(), "room");
  EXPECT_STREQ(Parse(frames[1])["mention"]["kind"].GetString(), "here");
  EXPECT_TRUE(Frames(dora_).empty());
}

TEST_F(MentionWorkerTest, AMentionStoredButNotNotifiedIsNotifiedByTheReplay) {
  // As if a worker died between its INSERT and its notifications: the row is there, notified_at NULL.
  ChatEvent e = env_->Event(general_, ana_, "ana", "@bea look");
  auto row = env_->QueryInt("INSERT INTO mentions (message_id, room_id, user_id, kind) VALUES (" +
                            std::to_string(e.id) + "," + std::to_string(general_) + "," + std::to_string(bea_) +
                            ", 'user') RETURNING id");
  ASSERT_TRUE(row.ok());
  auto worker = StartWorker("mention");
  ProduceAndWait({e});
  auto frames = Frames(bea_);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(Parse(frames[0])["mention"]["id"].GetInt64(), *row);
  auto mail = NotifyEvents();
  ASSERT_EQ(mail[bea_].size(), 1u);
  EXPECT_EQ(Parse(mail[bea_][0])["mention_id"].GetInt64(), *row);
  EXPECT_EQ(*env_->QueryInt("SELECT count(*) FROM mentions WHERE notified_at IS NOT NULL"), 1);
}

TEST_F(MentionWorkerTest, WhilePostgresIsDownNothingIsCommittedAndTheBatchIsRetried) {
  ASSERT_TRUE(env_->AllowConnections(false).ok());
  Metric& retries = WorkerMetrics::For("mention").retries;
  const int64_t retries_before = retries.value();
  ChatEvent e = env_->Event(general_, ana_, "ana", "@bea are you there?");
  {
    auto worker = StartWorker("mention");
    ASSERT_TRUE(env_->Produce({e}).ok());
    ASSERT_TRUE(WaitFor([&] { return retries.value() >= retries_before + 2; }));
  }  // stopped while the database is still down: its offset must not have been committed

  ASSERT_TRUE(env_->AllowConnections(true).ok());
  const int64_t before = MentionEvents();
  auto worker = StartWorker("mention");  // the same group: it resumes from the committed offset
  ASSERT_TRUE(WaitFor([&] { return MentionEvents() >= before + 1; }));
  EXPECT_EQ(Mentions(e), (std::map<int64_t, std::string>{{bea_, "user"}}));
  EXPECT_EQ(Frames(bea_).size(), 1u);
  EXPECT_EQ(NotifyEvents()[bea_].size(), 1u);
}

TEST_F(MentionWorkerTest, MaskRoomNotificationsShowTheMaskedText) {
  int64_t masked = Must(env_->CreateRoom("masked", false, ana_, "mask"));
  auto worker = StartWorker("mention");
  ChatEvent e = env_->Event(masked, ana_, "ana", "@carl mierda");
  e.tags = R"({"lang":"es","profanity":{"flagged":true,"terms":["mierda"],"masked":"@carl m*****"}})";
  ProduceAndWait({e});
  auto frames = Frames(carl_);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_STREQ(Parse(frames[0])["mention"]["message"]["text"].GetString(), "@carl m*****");
}

// A replayed mention from last week (a range run over history whose mentions were never recorded)
// reaches the inbox and the live frame, but nobody gets an e-mail about it; a fresh one still does.
TEST_F(MentionWorkerTest, MentionsOlderThanTheEmailWindowGetNoEmail) {
  auto worker = StartWorker("mention");
  ChatEvent old = env_->Event(general_, ana_, "ana", "@rodo about last week");
  old.ts_ms -= 7LL * 24 * 3600 * 1000;
  ChatEvent fresh = env_->Event(general_, ana_, "ana", "@bea about today");
  ProduceAndWait({old, fresh});

  EXPECT_EQ(Mentions(old), (std::map<int64_t, std::string>{{rodo_, "user"}}));
  EXPECT_EQ(Frames(rodo_).size(), 1u);
  auto mail = NotifyEvents();  // both are offline with e-mail on
  EXPECT_TRUE(mail[rodo_].empty());
  EXPECT_EQ(mail[bea_].size(), 1u);
}

}  // namespace
}  // namespace chatpipe
