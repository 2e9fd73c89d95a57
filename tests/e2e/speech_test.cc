// Spoken messages end to end (issue 17): a reader asks for a message's audio, the speech worker (a
// child process, as the stack runs it) makes it once, the asker hears of it over the WebSocket, the
// object is Ogg Opus whose length fits the text, and a second request gets it at once without a
// second synthesis. Only those who may read the message may ask.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/metrics.h"
#include "tests/support/stack_test_base.h"

namespace chatpipe::test {
namespace {

// The length of an Ogg Opus stream: the last page's granule position, less the pre-skip, at 48 kHz.
int64_t OggOpusDurationMs(const std::string& ogg) {
  size_t last = ogg.rfind("OggS");
  size_t head = ogg.find("OpusHead");
  if (last == std::string::npos || head == std::string::npos || last + 14 > ogg.size() || head + 12 > ogg.size())
    return -1;
  uint64_t granule = 0;
  for (int i = 7; i >= 0; --i) granule = granule << 8 | static_cast<unsigned char>(ogg[last + 6 + i]);
  uint16_t pre_skip = static_cast<unsigned char>(ogg[head + 10]) | static_cast<unsigned char>(ogg[head + 11]) << 8;
  return static_cast<int64_t>((granule - pre_skip) / 48);
}

class SpeechTest : public StackTest {
 protected:
  SpeechTest() : StackTest(Start::kIngressAndPersister) {}

  void SetUp() override {
    StackTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(stack->StartWorkerProcess("speech", {"--objects-dir", stack->objects_dir()}).ok());
    ASSERT_TRUE(RegisterWithRoom("ana", "voces", &ana, &room));
  }

  // Posts `text` to `in_room` and waits until the persister has stored it; its id.
  std::string Stored(int64_t in_room, const std::string& text) {
    auto sent = stack->Call("POST", "/api/rooms/" + std::to_string(in_room) + "/messages", ana,
                            "{\"text\":\"" + text + "\"}");
    EXPECT_TRUE(sent.ok() && sent->status == 202);
    auto j = ParseJson(sent->body);
    EXPECT_TRUE(j.ok());
    std::string id = j->doc["id"].GetString();
    EXPECT_TRUE(WaitFor([&] {
      auto n = stack->pg().Exec(("SELECT count(*) FROM messages WHERE id = " + id).c_str());
      return n.ok() && n->Int(0, 0) == 1;
    }));
    return id;
  }

  Result<HttpResponse> AskSpeech(const TestUser& user, const std::string& message) {
    return stack->Call("POST", "/api/messages/" + message + "/speech", user);
  }

  TestUser ana;
  int64_t room = 0;
};

TEST_F(SpeechTest, TheAskerHearsOfTheAudioOnceItIsMadeAndItIsMadeOnce) {
  auto ws = stack->Connect(ana);
  ASSERT_TRUE(ws.ok());
  const std::string id = Stored(room, "hola a todos, hoy hablamos de la lluvia en Santiago y de los paraguas");
  auto first = AskSpeech(ana, id);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->status, 202) << first->body;
  EXPECT_EQ(first->body, R"({"status":"pending"})");

  auto frame = ReceiveUntil(**ws, [&](const Json& j) {
    return j.Type() == "speech" && std::string(j.doc["id"].GetString()) == id;
  }, std::chrono::seconds(30));
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  const std::string url = frame->doc["url"].GetString();
  const int64_t duration = frame->doc["duration_ms"].GetInt64();
  EXPECT_EQ(frame->doc["room"].GetInt64(), room);
  // Fourteen words of Spanish: a few seconds, not a blip and not a minute.
  EXPECT_GT(duration, 2000);
  EXPECT_LT(duration, 12000);

  auto audio = HttpRequest("GET", stack->Url(url));
  ASSERT_TRUE(audio.ok());
  ASSERT_EQ(audio->status, 200);
  EXPECT_EQ(audio->headers["content-type"], "audio/ogg");
  EXPECT_EQ(audio->body.rfind("OggS", 0), 0u);
  EXPECT_NEAR(OggOpusDurationMs(audio->body), duration, 60);

  // Asked again: the stored audio at once, and no second synthesis.
  auto again = AskSpeech(ana, id);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->status, 200) << again->body;
  auto j = ParseJson(again->body);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(std::string(j->doc["status"].GetString()), "ready");
  EXPECT_EQ(std::string(j->doc["url"].GetString()), url);
  auto rows = stack->pg().Exec("SELECT count(*) FROM speech");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->Int(0, 0), 1);
  size_t oggs = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(stack->objects_dir())) oggs += e.is_regular_file();
  EXPECT_EQ(oggs, 1u);
}

TEST_F(SpeechTest, OnlyReadersMayAskAndUnknownMessagesAreNotFound) {
  auto secret = stack->CreateRoom(ana, "secreto", /*is_private=*/true);
  ASSERT_TRUE(secret.ok());
  const std::string id = Stored(*secret, "solo para miembros");
  auto eve = stack->Register("eve");
  ASSERT_TRUE(eve.ok());
  auto refused = AskSpeech(*eve, id);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 403) << refused->body;
  auto unknown = AskSpeech(ana, "12345");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->status, 404) << unknown->body;
  auto malformed = AskSpeech(ana, "abc");
  ASSERT_TRUE(malformed.ok());
  EXPECT_EQ(malformed->status, 404) << malformed->body;
}

// What the worker would skip (a text longer than it reads, or none: an image alone) is refused at the
// request, not acknowledged for audio that never comes.
TEST_F(SpeechTest, MessagesTheWorkerWouldNotSpeakAreRefusedNotAcknowledged) {
  std::string long_text;
  for (int i = 0; i < 2100; ++i) long_text += "\xC3\xB1";  // 2,100 characters, 4,200 bytes: over the 4,000 spoken
  const std::string long_id = Stored(room, long_text);
  const std::string blank_id = "777000";  // as an image without a caption is stored
  ASSERT_TRUE(stack->pg()
                  .Exec("INSERT INTO messages (id, room_id, pos, user_id, user_name, body, ts) "
                        "VALUES ($1, $2, 1000, $3, 'ana', '', 0)",
                        {blank_id, std::to_string(room), std::to_string(ana.id)})
                  .ok());
  Metric& asked = Counter("chatpipe_ingress_speech_requests_total", "");  // the ingress runs in this process
  const int64_t asked_before = asked.value();
  for (const std::string& id : {long_id, blank_id}) {
    auto r = AskSpeech(ana, id);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 422) << r->body;
    EXPECT_NE(r->body.find("\"unspeakable\""), std::string::npos) << r->body;
  }
  EXPECT_EQ(asked.value(), asked_before);
  // A text of the size the worker reads is taken.
  auto fine = AskSpeech(ana, Stored(room, "hola a todos"));
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(fine->status, 202) << fine->body;
  EXPECT_EQ(asked.value(), asked_before + 1);
}

}  // namespace
}  // namespace chatpipe::test
