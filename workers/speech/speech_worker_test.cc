// The speech worker against the real PostgreSQL, Redis and Kafka, with a LocalObjectStore in a
// temporary directory.
#include "workers/speech/speech_worker.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <unistd.h>

#include <filesystem>
#include <map>

#include "common/metrics.h"
#include "storage/local_object_store.h"
#include "storage/redis_keys.h"
#include "tests/support/redis_subscriber.h"
#include "tests/support/wait.h"
#include "tests/support/worker_env.h"
#include "workers/consume/worker_metrics.h"

namespace chatpipe {
namespace {

using namespace std::chrono_literals;
using test::Subscriber;
using test::WaitFor;
using test::WorkerThread;

int64_t CounterValue(const char* name) { return Counter(name, "").value(); }
int64_t Synthesized() { return CounterValue("chatpipe_speech_synthesized_total"); }

struct Frame {
  std::string type, id, url;
  int64_t room = 0, duration_ms = 0;
};

Frame ParseFrame(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  Frame f;
  f.type = "?";
  if (d.HasParseError() || !d.IsObject()) return f;
  if (d.HasMember("type") && d["type"].IsString()) f.type = d["type"].GetString();
  if (d.HasMember("id") && d["id"].IsString()) f.id = d["id"].GetString();
  if (d.HasMember("url") && d["url"].IsString()) f.url = d["url"].GetString();
  if (d.HasMember("room") && d["room"].IsInt64()) f.room = d["room"].GetInt64();
  if (d.HasMember("duration_ms") && d["duration_ms"].IsInt64()) f.duration_ms = d["duration_ms"].GetInt64();
  return f;
}

class SpeechWorkerTest : public test::WorkerEnvTest {
 protected:
  void SetUp() override {
    WorkerEnvTest::SetUp();
    if (HasFatalFailure()) return;
    auto tagger = Tagger::Load(DefaultTagDataDir());
    ASSERT_TRUE(tagger.ok()) << tagger.status().ToString();
    tagger_ = std::move(*tagger);
    dir_ = std::filesystem::temp_directory_path() /
           ("speech-objects-" + std::to_string(getpid()) + "-" + std::to_string(reinterpret_cast<uintptr_t>(this)));
    store_ = std::make_unique<LocalObjectStore>(dir_.string());
    ASSERT_TRUE(store_->Open().ok());
    for (auto [name, id] : {std::pair{"ana", &ana_}, std::pair{"bob", &bob_}}) {
      auto u = env_->CreateUser(name);
      ASSERT_TRUE(u.ok()) << u.status().ToString();
      *id = *u;
    }
    auto room = env_->CreateRoom("general", false, ana_);
    ASSERT_TRUE(room.ok()) << room.status().ToString();
    room_ = *room;
    worker_ = std::make_unique<SpeechWorker>(env_->config(), *store_, *tagger_, SpeechWorkerOptions{});
  }
  void TearDown() override {
    worker_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // A message stored as the persister stores it (in a mask room, its body is the masked text).
  uint64_t StoreMessage(const std::string& body, const std::string& lang_tag = "") {
    ChatEvent e = env_->Event(room_, ana_, "ana", body);
    auto r = env_->pg().Exec(
        "INSERT INTO messages (id, room_id, pos, user_id, user_name, body, ts) "
        "VALUES ($1, $2, (SELECT coalesce(max(pos), 0) + 1 FROM messages WHERE room_id = $2), $3, 'ana', $4, $5)",
        {std::to_string(e.id), std::to_string(room_), std::to_string(ana_), body, std::to_string(e.ts_ms)});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!lang_tag.empty()) {
      auto t = env_->pg().Exec("INSERT INTO message_tags (message_id, room_id, tags) VALUES ($1, $2, $3::jsonb)",
                               {std::to_string(e.id), std::to_string(room_), R"({"lang":")" + lang_tag + R"("})"});
      EXPECT_TRUE(t.ok()) << t.status().ToString();
    }
    return e.id;
  }

  std::string UserChannelOf(int64_t user) { return UserChannel(env_->config().RedisPrefix(), user); }

  int64_t Count(const std::string& sql) {
    auto n = env_->QueryInt(sql);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }

  // The frames on `sub` before a sentinel published on `channel` now: everything published before.
  std::vector<Frame> Drain(Subscriber& sub, const std::string& channel) {
    const std::string sentinel = R"({"type":"sentinel"})";
    EXPECT_TRUE(env_->redis().Command({"PUBLISH", channel, sentinel}).ok());
    std::vector<Frame> out;
    for (;;) {
      auto next = sub.Next(10s);
      if (!next.ok()) {
        ADD_FAILURE() << next.status().ToString();
        return out;
      }
      if (*next == sentinel) return out;
      out.push_back(ParseFrame(*next));
    }
  }

  std::unique_ptr<Tagger> tagger_;
  std::filesystem::path dir_;
  std::unique_ptr<LocalObjectStore> store_;
  std::unique_ptr<SpeechWorker> worker_;
  int64_t ana_ = 0, bob_ = 0, room_ = 0;
};

TEST_F(SpeechWorkerTest, SpeaksOnceStoresTheAudioAndTellsEveryAsker) {
  const uint64_t id = StoreMessage("hola a todos, nos vemos mañana en la reunión", "es");
  auto ana_sub = Subscriber::Create(env_->config(), {UserChannelOf(ana_)});
  auto bob_sub = Subscriber::Create(env_->config(), {UserChannelOf(bob_)});
  ASSERT_TRUE(ana_sub.ok() && bob_sub.ok());
  const int64_t made_before = Synthesized();
  // Ana asked twice (ingress' rate limit let both through), Bob once.
  std::vector<SpeechRequest> batch = {{id, room_, ana_, 1}, {id, room_, bob_, 2}, {id, room_, ana_, 3}};
  ASSERT_TRUE(worker_->Apply(batch).ok());
  EXPECT_EQ(Synthesized(), made_before + 1);

  const std::string ids = std::to_string(id);
  ASSERT_EQ(Count("SELECT count(*) FROM speech WHERE message_id = " + ids + " AND lang = 'es' AND duration_ms > 1000"), 1);
  auto key = env_->pg().Exec("SELECT sha256, duration_ms FROM speech WHERE message_id = $1", {ids});
  ASSERT_TRUE(key.ok() && key->rows() == 1);
  const std::string sha(key->Text(0, 0));
  const int64_t duration = key->Int(0, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM objects WHERE sha256 = '" + sha + "' AND type = 'audio/ogg' AND bytes > 0"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM room_objects WHERE sha256 = '" + sha + "' AND room_id = " + std::to_string(room_)), 1);
  auto ogg = store_->Get(sha, std::nullopt);
  ASSERT_TRUE(ogg.ok()) << ogg.status().ToString();
  EXPECT_EQ(ogg->substr(0, 4), "OggS");
  EXPECT_EQ(ObjectKey(*ogg), sha);
  EXPECT_EQ(Count("SELECT bytes FROM objects WHERE sha256 = '" + sha + "'"), static_cast<int64_t>(ogg->size()));

  const std::string url = "/api/rooms/" + std::to_string(room_) + "/objects/" + sha;
  for (auto [sub, user] : {std::pair{ana_sub->get(), ana_}, std::pair{bob_sub->get(), bob_}}) {
    std::vector<Frame> frames = Drain(*sub, UserChannelOf(user));
    ASSERT_EQ(frames.size(), 1u) << "one frame per asker and message";
    EXPECT_EQ(frames[0].type, "speech");
    EXPECT_EQ(frames[0].id, ids);
    EXPECT_EQ(frames[0].room, room_);
    EXPECT_EQ(frames[0].url, url);
    EXPECT_EQ(frames[0].duration_ms, duration);
  }

  // A replay, and a later request for a message spoken already: nothing made, the askers told again.
  const auto mtime = std::filesystem::last_write_time(dir_ / sha.substr(0, 2) / sha.substr(2, 2) / sha);
  ASSERT_TRUE(worker_->Apply(batch).ok());
  ASSERT_TRUE(worker_->Apply({{id, room_, bob_, 4}}).ok());
  EXPECT_EQ(Synthesized(), made_before + 1);
  EXPECT_EQ(Count("SELECT count(*) FROM speech"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM objects"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM room_objects"), 1);
  EXPECT_EQ(std::filesystem::last_write_time(dir_ / sha.substr(0, 2) / sha.substr(2, 2) / sha), mtime);
  std::vector<Frame> ana_again = Drain(**ana_sub, UserChannelOf(ana_));
  ASSERT_EQ(ana_again.size(), 1u);
  EXPECT_EQ(ana_again[0].url, url);
  std::vector<Frame> bob_again = Drain(**bob_sub, UserChannelOf(bob_));
  ASSERT_EQ(bob_again.size(), 2u);
  for (const auto& f : bob_again) EXPECT_EQ(f.url, url);
}

TEST_F(SpeechWorkerTest, SpeaksTheTaggedLanguageElseTheTaggersGuess) {
  const uint64_t tagged = StoreMessage("bom dia pessoal, tudo bem com vocês hoje?", "pt");
  const uint64_t untagged = StoreMessage("¿dónde está la estación de tren más cercana?");
  const uint64_t english = StoreMessage("see you all at the meeting tomorrow", "en");
  ASSERT_TRUE(worker_->Apply({{tagged, room_, bob_, 1}, {untagged, room_, bob_, 1}, {english, room_, bob_, 1}}).ok());
  auto r = env_->pg().Exec("SELECT message_id, lang FROM speech ORDER BY message_id");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->rows(), 3);
  std::map<uint64_t, std::string> lang;
  for (int i = 0; i < r->rows(); ++i) lang[static_cast<uint64_t>(r->Int(i, 0))] = std::string(r->Text(i, 1));
  EXPECT_EQ(lang[tagged], "pt");
  EXPECT_EQ(lang[untagged], "es");
  EXPECT_EQ(lang[english], "en");
}

TEST_F(SpeechWorkerTest, SkipsMissingWrongRoomAndUnspeakableMessagesWithoutWedgingTheBatch) {
  auto sub = Subscriber::Create(env_->config(), {UserChannelOf(bob_)});
  ASSERT_TRUE(sub.ok());
  const uint64_t good = StoreMessage("this one can be spoken", "en");
  const uint64_t blank = StoreMessage("   ");  // ingress refuses blank text; a stored one is still skipped
  const uint64_t absent = good + 1000;
  const int64_t missing_before = CounterValue("chatpipe_speech_missing_total");
  const int64_t unspeakable_before = CounterValue("chatpipe_speech_unspeakable_total");
  ASSERT_TRUE(worker_->Apply({{absent, room_, bob_, 1}, {blank, room_, bob_, 1}, {good, room_ + 1, bob_, 1},
                              {good, room_, bob_, 1}})
                  .ok());
  EXPECT_EQ(CounterValue("chatpipe_speech_missing_total"), missing_before + 2);  // absent, and good in room_+1
  EXPECT_EQ(CounterValue("chatpipe_speech_unspeakable_total"), unspeakable_before + 1);
  EXPECT_EQ(Count("SELECT count(*) FROM speech"), 1);
  std::vector<Frame> frames = Drain(**sub, UserChannelOf(bob_));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].id, std::to_string(good));
  EXPECT_EQ(frames[0].room, room_);
}

TEST_F(SpeechWorkerTest, ConsumesChatSpeechAndSendsBadEventsToDeadLetters) {
  const uint64_t id = StoreMessage("spoken through kafka", "en");
  auto sub = Subscriber::Create(env_->config(), {UserChannelOf(ana_)});
  ASSERT_TRUE(sub.ok());
  const std::string topic = env_->config().Topic(kSpeechTopic);
  const std::string key = std::to_string(room_);
  ASSERT_TRUE(env_->ProduceTo(topic, key, "not json").ok());
  ASSERT_TRUE(env_->ProduceTo(topic, key, EncodeSpeechRequest({id, room_, ana_, 1})).ok());
  WorkerMetrics metrics = WorkerMetrics::For("speech");
  const int64_t dead_before = metrics.dead_letters.value();
  ASSERT_TRUE(worker_->Start().ok());
  auto running = std::make_unique<WorkerThread>([this](const std::atomic<bool>& stop) { worker_->Run(stop); });
  auto frame = (*sub)->Next(60s);
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  Frame f = ParseFrame(*frame);
  EXPECT_EQ(f.type, "speech");
  EXPECT_EQ(f.id, std::to_string(id));
  EXPECT_TRUE(WaitFor([&] { return metrics.dead_letters.value() >= dead_before + 1; }));
  running.reset();
}

}  // namespace
}  // namespace chatpipe
