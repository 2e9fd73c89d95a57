// The tag worker against the real PostgreSQL, Redis and Kafka, with the real persister beside it.
#include "workers/tag/tag_worker.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "common/metrics.h"
#include "storage/redis_keys.h"
#include "tests/support/redis_subscriber.h"
#include "tests/support/services.h"
#include "tests/support/topic_reader.h"
#include "tests/support/wait.h"
#include "tests/support/worker_env.h"
#include "workers/consume/worker_metrics.h"
#include "workers/persist/persister.h"

namespace chatpipe {
namespace {

using namespace std::chrono_literals;
using test::Subscriber;
using test::WaitFor;
using test::WorkerTestEnv;
using test::WorkerThread;

int64_t TagEvents() { return WorkerMetrics::For("tag").events.value(); }
int64_t PersistedEvents() { return WorkerMetrics::For("persist").events.value(); }

struct Frame {
  std::string type, id, text;
};

Frame ParseFrame(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  Frame f{"?", "", text};
  if (d.HasParseError() || !d.IsObject()) return f;
  if (d.HasMember("type") && d["type"].IsString()) f.type = d["type"].GetString();
  if (d.HasMember("id") && d["id"].IsString()) f.id = d["id"].GetString();
  return f;
}

// Every frame published on the subscribed channels before `sentinel`, which the caller publishes once
// the workers are known to be done: what arrives before it is all they published.
std::vector<Frame> DrainUntil(WorkerTestEnv& env, Subscriber& sub, const std::string& channel) {
  const std::string sentinel = R"({"type":"sentinel"})";
  EXPECT_TRUE(env.redis().Command({"PUBLISH", channel, sentinel}).ok());
  std::vector<Frame> frames;
  for (;;) {
    auto next = sub.Next(10s);
    if (!next.ok()) {
      ADD_FAILURE() << next.status().ToString();
      return frames;
    }
    if (*next == sentinel) return frames;
    frames.push_back(ParseFrame(*next));
  }
}

class TagWorkerTest : public test::WorkerEnvTest {
 protected:
  void SetUp() override {
    WorkerEnvTest::SetUp();
    if (HasFatalFailure()) return;
    auto tagger = Tagger::Load(DefaultTagDataDir());
    ASSERT_TRUE(tagger.ok()) << tagger.status().ToString();
    tagger_ = std::move(*tagger);
    auto ana = env_->CreateUser("ana");
    ASSERT_TRUE(ana.ok()) << ana.status().ToString();
    ana_ = *ana;
    auto room = env_->CreateRoom("general", false, ana_);
    ASSERT_TRUE(room.ok()) << room.status().ToString();
    room_ = *room;
    channel_ = RoomChannel(env_->config().RedisPrefix(), room_);
  }

  std::unique_ptr<WorkerThread> StartPersister() {
    auto persister = std::make_shared<Persister>(env_->config(), 500);
    EXPECT_TRUE(persister->Start().ok());
    return std::make_unique<WorkerThread>([persister](const std::atomic<bool>& stop) { persister->Run(stop); });
  }

  std::unique_ptr<WorkerThread> StartTagger(const std::string& group, int placement_wait_ms = 20000) {
    auto worker = std::make_shared<TagWorker>(env_->config(), *tagger_, TagWorkerOptions{500, group, placement_wait_ms});
    EXPECT_TRUE(worker->Start().ok());
    return std::make_unique<WorkerThread>([worker](const std::atomic<bool>& stop) { worker->Run(stop); });
  }

  std::vector<std::string> History() {
    auto r = env_->redis().Command({"LRANGE", RoomHistoryKey(env_->config().RedisPrefix(), room_), "0", "-1"});
    EXPECT_TRUE(r.ok());
    std::vector<std::string> out;
    for (const auto& e : r->elements) out.push_back(e.str);
    return out;
  }

  std::unique_ptr<Tagger> tagger_;
  int64_t ana_ = 0, room_ = 0;
  std::string channel_;
};

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

TEST_F(TagWorkerTest, TagsStoredPublishedAfterTheMessageAndPatchedIntoHistoryOnce) {
  auto sub = Subscriber::Create(env_->config(), {channel_});
  ASSERT_TRUE(sub.ok());
  auto persister = StartPersister();
  auto tagger = StartTagger("tag");

  ChatEvent happy = env_->Event(room_, ana_, "ana", "¡Qué alegría verte, amigo! Me encanta");
  happy.client_msg_id = "c-1";
  ChatEvent rude = env_->Event(room_, ana_, "ana", "this is shit");
  // As ingress sends every message now: tagged, with this tagger's version.
  ChatEvent inline_tagged = env_->Event(room_, ana_, "ana", "tagged by ingress, shit");
  inline_tagged.tags = TagsToJson(tagger_->Analyze(inline_tagged.text));
  inline_tagged.tagger_version = tagger_->version();
  ChatEvent retry = env_->Event(room_, ana_, "ana", happy.text);  // the client resent "c-1": a new id
  retry.client_msg_id = "c-1";
  const int64_t tagged_before = TagEvents(), persisted_before = PersistedEvents();
  ASSERT_TRUE(env_->Produce({happy, rude, inline_tagged, retry}).ok());
  ASSERT_TRUE(WaitFor([&] { return TagEvents() >= tagged_before + 4 && PersistedEvents() >= persisted_before + 4; }));

  std::vector<Frame> frames = DrainUntil(*env_, **sub, channel_);
  std::map<std::string, std::string> tags_frames;
  std::map<std::string, size_t> message_at;
  for (size_t i = 0; i < frames.size(); ++i) {
    if (frames[i].type == "message") {
      message_at.emplace(frames[i].id, i);
      // The message frame carries the tags ingress made; the others get theirs in a tags frame.
      auto m = DecodeMessageFrame(frames[i].text);
      ASSERT_TRUE(m.ok()) << frames[i].text;
      EXPECT_EQ(m->event.tags, m->event.id == inline_tagged.id ? inline_tagged.tags : "") << frames[i].text;
    }
    if (frames[i].type != "tags") continue;
    EXPECT_TRUE(tags_frames.emplace(frames[i].id, frames[i].text).second) << "two tags frames for " << frames[i].id;
    ASSERT_TRUE(message_at.count(frames[i].id)) << "tags before their message: " << frames[i].text;
  }
  const std::string happy_id = std::to_string(happy.id), rude_id = std::to_string(rude.id);
  // None for the retry, and none for the message whose frame carried its tags already.
  ASSERT_EQ(tags_frames.size(), 2u);
  // Tagged as ingress tags a room that masks no mild word: mild words stay in the clear.
  TagOptions options;
  options.mask_mild = false;
  options.names = {"ana"};
  EXPECT_EQ(tags_frames[happy_id], EncodeTagsFrame(room_, happy.id, TagsToJson(tagger_->Analyze(happy.text, options))));
  EXPECT_EQ(tags_frames[rude_id], EncodeTagsFrame(room_, rude.id, TagsToJson(tagger_->Analyze(rude.text, options))));
  EXPECT_NE(tags_frames[rude_id].find(R"("flagged":true,"level":"mild")"), std::string::npos) << tags_frames[rude_id];
  EXPECT_EQ(tags_frames[rude_id].find("masked"), std::string::npos) << tags_frames[rude_id];
  EXPECT_EQ(message_at.size(), 3u);

  auto rows = env_->QueryInt("SELECT count(*) FROM message_tags WHERE message_id IN (" + happy_id + "," + rude_id +
                             "," + std::to_string(inline_tagged.id) + ")");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(*rows, 3);
  auto inline_stored = env_->QueryInt("SELECT count(*) FROM message_tags WHERE message_id = " +
                                      std::to_string(inline_tagged.id) + " AND tags = '" + inline_tagged.tags +
                                      "'::jsonb AND room_id = " + std::to_string(room_));
  ASSERT_TRUE(inline_stored.ok());
  EXPECT_EQ(*inline_stored, 1);

  auto history = History();
  ASSERT_EQ(history.size(), 3u);  // the retry is folded into the first message
  for (const auto& entry : history) {
    EXPECT_EQ(Count(entry, ",\"tags\":{"), 1u) << entry;
    auto m = DecodeMessageFrame(entry);
    ASSERT_TRUE(m.ok()) << entry;
    EXPECT_EQ(entry.rfind("{\"type\":\"message\",\"room\":" + std::to_string(room_) + ",\"pos\":" +
                              std::to_string(m->pos) + ",\"id\":\"",
                          0),
              0u)
        << entry;
    if (m->event.id == happy.id) {
      EXPECT_EQ(m->event.tags, TagsToJson(tagger_->Analyze(happy.text)));
    }
    if (m->event.id == inline_tagged.id) {
      EXPECT_EQ(m->event.tags, inline_tagged.tags);
    }
  }
  const int64_t rows_before_replay = *env_->QueryInt("SELECT count(*) FROM message_tags");
  tagger.reset();

  // A replay by a new consumer group: no new rows, history unchanged, the same tags frames again.
  const int64_t replay_before = TagEvents();
  auto replay = StartTagger("tag-replay");
  ASSERT_TRUE(WaitFor([&] { return TagEvents() >= replay_before + 4; }));
  replay.reset();
  std::vector<Frame> again = DrainUntil(*env_, **sub, channel_);
  ASSERT_EQ(again.size(), 2u);
  for (const auto& f : again) {
    EXPECT_EQ(f.type, "tags");
    EXPECT_EQ(f.text, tags_frames[f.id]) << f.text;
  }
  EXPECT_EQ(*env_->QueryInt("SELECT count(*) FROM message_tags"), rows_before_replay);
  EXPECT_EQ(History(), history);
}

TEST_F(TagWorkerTest, WaitsForALatePersisterThenPlacesTheTags) {
  auto sub = Subscriber::Create(env_->config(), {channel_});
  ASSERT_TRUE(sub.ok());
  auto tagger = StartTagger("tag");
  ChatEvent e = env_->Event(room_, ana_, "ana", "what a lovely day");
  ASSERT_TRUE(env_->Produce({e}).ok());
  // Tagged and stored, but not published: its message is not in the room yet.
  ASSERT_TRUE(WaitFor([&] {
    auto n = env_->QueryInt("SELECT count(*) FROM message_tags WHERE message_id = " + std::to_string(e.id));
    return n.ok() && *n == 1;
  }));
  auto persister = StartPersister();
  auto first = (*sub)->Next(20s);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(ParseFrame(*first).type, "message") << *first;
  auto second = (*sub)->Next(20s);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*second, EncodeTagsFrame(room_, e.id, TagsToJson(tagger_->Analyze(e.text))));
  auto history = History();
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(Count(history[0], ",\"tags\":{"), 1u) << history[0];
}

TEST_F(TagWorkerTest, PublishesAnywayWhenThePersisterNeverComes) {
  auto sub = Subscriber::Create(env_->config(), {channel_});
  ASSERT_TRUE(sub.ok());
  auto tagger = StartTagger("tag", 200);
  ChatEvent e = env_->Event(room_, ana_, "ana", "nobody stores me");
  ASSERT_TRUE(env_->Produce({e}).ok());
  auto frame = (*sub)->Next(20s);
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  EXPECT_EQ(*frame, EncodeTagsFrame(room_, e.id, TagsToJson(tagger_->Analyze(e.text))));
  EXPECT_TRUE(History().empty());
}

TEST_F(TagWorkerTest, BadEventsGoToTheDeadLetterTopicAndTheRestIsApplied) {
  auto dead = test::TopicReader::Create(env_->config(), env_->config().Topic(kDeadLetterTopic));
  ASSERT_TRUE(dead.ok());
  // \u0000 is valid JSON that PostgreSQL's jsonb refuses: the batch fails, then only that event.
  ChatEvent bad = env_->Event(room_, ana_, "ana", "bad");
  bad.tags = R"({"lang":"\u0000"})";
  bad.tagger_version = tagger_->version();  // kept as they are, not tagged again
  ChatEvent good = env_->Event(room_, ana_, "ana", "good");
  good.tags = R"({"lang":"en"})";
  good.tagger_version = tagger_->version();
  auto tagger = StartTagger("tag", 200);  // no persister here
  ASSERT_TRUE(env_->ProduceRaw(std::to_string(room_), "{not json").ok());
  ASSERT_TRUE(env_->Produce({bad, good}).ok());
  auto letters = (*dead)->Read(2, 30s);
  ASSERT_EQ(letters.size(), 2u);
  EXPECT_TRUE(letters[0].payload == "{not json" || letters[1].payload == "{not json");
  EXPECT_TRUE(letters[0].payload.find(std::to_string(bad.id)) != std::string::npos ||
              letters[1].payload.find(std::to_string(bad.id)) != std::string::npos);
  ASSERT_TRUE(WaitFor([&] {
    auto n = env_->QueryInt("SELECT count(*) FROM message_tags WHERE message_id = " + std::to_string(good.id));
    return n.ok() && *n == 1;
  }));
  EXPECT_EQ(*env_->QueryInt("SELECT count(*) FROM message_tags"), 1);
}

// A client's retry comes under a new id, and the persister folds it into the first message: its tags
// are not stored again and the room's statistics count the message once, whether the retry comes in
// its first attempt's batch or in a later one, and when the batches are replayed.
TEST_F(TagWorkerTest, AClientsRetryIsStoredAndCountedOnce) {
  TagWorker worker(env_->config(), *tagger_, TagWorkerOptions{500, "tag", 1});  // no persister: publish at once
  ChatEvent first = env_->Event(room_, ana_, "ana", "what a lovely day");
  first.client_msg_id = "c-1";
  ChatEvent same_batch = env_->Event(room_, ana_, "ana", first.text);
  same_batch.client_msg_id = "c-1";
  ChatEvent later = env_->Event(room_, ana_, "ana", first.text);
  later.client_msg_id = "c-1";
  ChatEvent other = env_->Event(room_, ana_, "ana", "a sad, awful day");
  other.client_msg_id = "c-2";
  ASSERT_TRUE(worker.Apply({first, same_batch}).ok());
  ASSERT_TRUE(worker.Apply({later, other}).ok());
  ASSERT_TRUE(worker.Apply({first, same_batch, later, other}).ok());  // a replay
  auto rows = env_->pg().Exec("SELECT message_id FROM message_tags ORDER BY message_id");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->rows(), 2);
  EXPECT_EQ(static_cast<uint64_t>(rows->Int(0, 0)), first.id);
  EXPECT_EQ(static_cast<uint64_t>(rows->Int(1, 0)), other.id);
  auto tagged = env_->QueryInt("SELECT sum(tagged) FROM room_tag_buckets WHERE width = 60000 AND room_id = " +
                               std::to_string(room_));
  ASSERT_TRUE(tagged.ok());
  EXPECT_EQ(*tagged, 2);
}

// Inline tags stand when they are this tagger's, or when the text was masked at intake (the original
// is gone); any other event is tagged again, with this tagger's version.
TEST_F(TagWorkerTest, StoresTheVersionOfTheTaggerThatMadeEachTag) {
  ChatEvent own = env_->Event(room_, ana_, "ana", "tagged by the worker");
  ChatEvent same = env_->Event(room_, ana_, "ana", "tagged by ingress");
  same.tags = R"({"lang":"en"})";  // not what this tagger would say: kept all the same
  same.tagger_version = tagger_->version();
  ChatEvent other = env_->Event(room_, ana_, "ana", "tagged by another ingress");
  other.tags = R"({"lang":"en"})";
  other.tagger_version = "0123456789ab";
  ChatEvent masked = env_->Event(room_, ana_, "ana", "vete a la m*****");
  masked.tags = R"({"lang":"es","profanity":{"flagged":true,"terms":["m*****"],"masked":"vete a la m*****"}})";
  masked.tagger_version = "0123456789ab";
  ChatEvent old = env_->Event(room_, ana_, "ana", "tagged before versions");
  old.tags = R"({"lang":"en"})";
  auto tagger = StartTagger("tag", 200);  // no persister here
  ASSERT_TRUE(env_->Produce({own, same, other, masked, old}).ok());
  ASSERT_TRUE(WaitFor([&] {
    auto n = env_->QueryInt("SELECT count(*) FROM message_tags");
    return n.ok() && *n == 5;
  }));
  auto stored = [&](const ChatEvent& e, const std::string& version, const std::string& tags) {
    auto n = env_->QueryInt("SELECT count(*) FROM message_tags WHERE message_id = " + std::to_string(e.id) +
                            " AND tagger_version = '" + version + "' AND tags = '" + tags + "'::jsonb");
    return n.ok() ? *n : -1;
  };
  auto fresh = [&](const ChatEvent& e) { return TagsToJson(tagger_->Analyze(e.text)); };
  ASSERT_EQ(tagger_->version().size(), 12u);
  EXPECT_EQ(stored(own, tagger_->version(), fresh(own)), 1);
  EXPECT_EQ(stored(same, tagger_->version(), same.tags), 1);
  EXPECT_EQ(stored(other, tagger_->version(), fresh(other)), 1);
  EXPECT_EQ(stored(masked, "0123456789ab", masked.tags), 1);
  EXPECT_EQ(stored(old, tagger_->version(), fresh(old)), 1);
}

// A tagger whose word lists are the real ones plus "zorblax" as an English profanity: a changed
// lexicon, as a new deployment would bring it (another version).
Result<std::unique_ptr<Tagger>> ChangedTagger(const std::string& dir) {
  std::filesystem::copy(DefaultTagDataDir(), dir, std::filesystem::copy_options::recursive);
  std::ofstream(dir + "/profanity_en.txt", std::ios::app) << "strong zorblax\n";
  return Tagger::Load(dir);
}

int64_t Changed() { return Counter("chatpipe_tag_changed_total", "").value(); }
int64_t KeptLater() { return Counter("chatpipe_tag_kept_later_total", "").value(); }

// Re-tagging with a later version replaces the stored tags, the history's and the clients'; a replay
// by a worker of the earlier version then changes nothing back.
TEST_F(TagWorkerTest, ALaterTaggerVersionReplacesTagsAndAnEarlierOneNever) {
  auto dir = test::TempDir::Create("lexicon");
  ASSERT_TRUE(dir.ok());
  auto changed_tagger = ChangedTagger((*dir)->path() + "/data");
  ASSERT_TRUE(changed_tagger.ok()) << changed_tagger.status().ToString();
  ASSERT_NE((*changed_tagger)->version(), tagger_->version());
  auto persister = StartPersister();
  ChatEvent e = env_->Event(room_, ana_, "ana", "what a zorblax");
  const std::string id = std::to_string(e.id);
  auto version_of = [&] {
    auto r = env_->pg().Exec("SELECT tagger_version, tags->'profanity'->>'flagged' FROM message_tags WHERE message_id = $1",
                             {id});
    return r.ok() && r->rows() == 1 ? std::string(r->Text(0, 0)) + " " + std::string(r->Text(0, 1)) : std::string("-");
  };
  {
    auto live = StartTagger("tag");
    ASSERT_TRUE(env_->Produce({e}).ok());
    ASSERT_TRUE(WaitFor([&] { return version_of() == tagger_->version() + " false"; })) << version_of();
    // Placed in the history, so its tags frame is out too (one script does both).
    ASSERT_TRUE(WaitFor([&] {
      auto h = History();
      return h.size() == 1 && Count(h[0], ",\"tags\":{") == 1;
    }));
  }
  auto sub = Subscriber::Create(env_->config(), {channel_});
  ASSERT_TRUE(sub.ok());
  const int64_t changed_before = Changed();
  {
    auto worker = std::make_shared<TagWorker>(env_->config(), **changed_tagger, TagWorkerOptions{500, "retag", 20000});
    ASSERT_TRUE(worker->Start().ok());  // registers the new version after the first
    WorkerThread retag([worker](const std::atomic<bool>& stop) { worker->Run(stop); });
    ASSERT_TRUE(WaitFor([&] { return version_of() == (*changed_tagger)->version() + " true"; })) << version_of();
    ASSERT_TRUE(WaitFor([&] { return Changed() == changed_before + 1; }));
  }
  const std::string new_tags = TagsToJson((*changed_tagger)->Analyze(e.text));
  std::vector<Frame> frames = DrainUntil(*env_, **sub, channel_);
  std::erase_if(frames, [](const Frame& f) { return f.type != "tags"; });
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].text, EncodeTagsFrame(room_, e.id, new_tags));
  auto history = History();
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(Count(history[0], ",\"tags\":{"), 1u) << history[0];
  auto m = DecodeMessageFrame(history[0]);
  ASSERT_TRUE(m.ok()) << history[0];
  EXPECT_EQ(m->event.tags, new_tags);

  // The earlier version, replaying in a fresh group: the row stays, nothing is shown.
  const int64_t kept_before = KeptLater(), tagged_before = TagEvents();
  {
    auto old_again = StartTagger("old-again");
    ASSERT_TRUE(WaitFor([&] { return TagEvents() >= tagged_before + 1; }));
  }
  EXPECT_EQ(version_of(), (*changed_tagger)->version() + " true");
  EXPECT_EQ(KeptLater(), kept_before + 1);
  EXPECT_TRUE(DrainUntil(*env_, **sub, channel_).empty());
  EXPECT_EQ(History(), history);
}

}  // namespace
}  // namespace chatpipe
