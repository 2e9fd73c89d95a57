// The analysis workers through the whole stack: ingress -> Kafka -> worker mention / worker tag ->
// PostgreSQL + Redis -> ingress -> WebSocket clients, with the workers as real child processes.
#include <gtest/gtest.h>

#include "analysis/tagger.h"
#include "storage/redis_keys.h"
#include "tests/support/stack_test_base.h"

namespace chatpipe::test {
namespace {

class AnalysisTest : public StackTest {
 protected:
  AnalysisTest() : StackTest(Start::kIngressAndPersister) {}

  void SetUp() override {
    StackTest::SetUp();
    if (HasFatalFailure()) return;
    auto a = stack->Register("ana"), b = stack->Register("bea");
    ASSERT_TRUE(a.ok() && b.ok());
    ana = *a;
    bea = *b;
  }

  std::unique_ptr<WsClient> Connect(const TestUser& user, int64_t room = 0) {
    auto ws = stack->Connect(user);
    EXPECT_TRUE(ws.ok()) << ws.status().ToString();
    if (!ws.ok()) return nullptr;
    if (room) {
      EXPECT_TRUE((*ws)->SendText("{\"type\":\"join\",\"room\":" + std::to_string(room) + "}").ok());
      EXPECT_TRUE(ReceiveType(**ws, "joined").ok());
    }
    return std::move(*ws);
  }

  static std::string Send(int64_t room, const std::string& text) {
    return "{\"type\":\"send\",\"room\":" + std::to_string(room) + ",\"text\":\"" + text + "\"}";
  }

  // `moderation` is JSON: one policy for both levels ("\"mask\"") or {"mild":..,"strong":..}; the room
  // comes back with both levels' policies, `mild` and `strong`.
  Result<int64_t> Room(const std::string& name, const std::string& moderation, const char* mild, const char* strong) {
    auto r = stack->Call("POST", "/api/rooms", ana, "{\"name\":\"" + name + "\",\"moderation\":" + moderation + "}");
    if (!r.ok()) return r.status();
    if (r->status != 201) return Status::Internal(r->body);
    auto body = ParseJson(r->body);
    EXPECT_STREQ((*body).doc["moderation"]["mild"].GetString(), mild) << r->body;
    EXPECT_STREQ((*body).doc["moderation"]["strong"].GetString(), strong) << r->body;
    return (*body).doc["id"].GetInt64();
  }
  Result<int64_t> Room(const std::string& name, const std::string& policy) {
    return Room(name, "\"" + policy + "\"", policy.c_str(), policy.c_str());
  }

  // The ack or the error frame that answers the last send on `ws`.
  static Result<Json> Answer(WsClient& ws) {
    return ReceiveUntil(ws, [](const Json& j) { return j.Type() == "error" || j.Type() == "ack"; });
  }

  // Once the tag worker has stored the tags of the message with `text` and of one sent after it (so
  // it has published whatever it would for the first), a third message from `from` reaches `to`:
  // the frames `to` got until then, the message frames' types and texts.
  std::vector<Json> FramesAfterTheTagWorker(WsClient& from, WsClient& to, int64_t room, const std::string& text) {
    const std::string later = "a later message", last = "the last message";
    EXPECT_TRUE(from.SendText(Send(room, later)).ok());
    EXPECT_TRUE(WaitFor([&] {
      auto n = stack->pg().Exec("SELECT count(*) FROM message_tags t JOIN messages m ON m.id = t.message_id "
                                "WHERE m.room_id = $1 AND m.body IN ($2, $3)",
                                {std::to_string(room), text, later});
      return n.ok() && n->Int(0, 0) == 2;
    }, std::chrono::seconds(20)));
    EXPECT_TRUE(from.SendText(Send(room, last)).ok());
    std::vector<Json> frames;
    auto end = ReceiveUntil(to, [&](const Json& j) {
      frames.push_back(std::move(*ParseJson(j.text)));
      return j.Type() == "message" && last == j.doc["text"].GetString();
    });
    EXPECT_TRUE(end.ok()) << end.status().ToString();
    return frames;
  }

  TestUser ana, bea;
};

TEST_F(AnalysisTest, MentionReachesTheMentionedUsersOtherConnectionAndTheInbox) {
  ASSERT_TRUE(stack->StartWorkerProcess("mention").ok());
  auto general = stack->CreateRoom(ana, "general");
  ASSERT_TRUE(general.ok());
  auto a = Connect(ana, *general);
  auto bea_elsewhere = Connect(bea);  // in no room at all
  ASSERT_TRUE(a && bea_elsewhere);
  // bea is online while connected: the mention worker reads this to decide against e-mail.
  ASSERT_TRUE(WaitFor([&] {
    auto n = stack->redis().Command({"ZCARD", OnlineKey(stack->config().RedisPrefix(), bea.id)});
    return n.ok() && n->integer == 1;
  }));

  ASSERT_TRUE(a->SendText(Send(*general, "hey @bea, look at this")).ok());
  auto note = ReceiveType(*bea_elsewhere, "notification", std::chrono::seconds(20));
  ASSERT_TRUE(note.ok()) << note.status().ToString();
  const auto& mention = note->doc["mention"];
  EXPECT_STREQ(mention["message"]["text"].GetString(), "hey @bea, look at this");
  EXPECT_EQ(mention["room"]["id"].GetInt64(), *general);
  EXPECT_STREQ(mention["kind"].GetString(), "user");
  int64_t mention_id = mention["id"].GetInt64();

  // The inbox lists it unread until it is marked read; ana, who was not mentioned, has nothing.
  auto inbox = stack->Call("GET", "/api/users/me/mentions?unread=true", bea);
  ASSERT_TRUE(inbox.ok() && inbox->status == 200) << (inbox.ok() ? inbox->body : "");
  auto list = ParseJson(inbox->body);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->doc["mentions"].Size(), 1u) << inbox->body;
  EXPECT_EQ(list->doc["unread"].GetInt64(), 1);
  EXPECT_EQ(list->doc["mentions"][0]["id"].GetInt64(), mention_id);
  EXPECT_FALSE(list->doc["mentions"][0]["read"].GetBool());
  auto others = stack->Call("GET", "/api/users/me/mentions", ana);
  ASSERT_TRUE(others.ok());
  EXPECT_EQ(ParseJson(others->body)->doc["mentions"].Size(), 0u) << others->body;
  auto wrong_user = stack->Call("POST", "/api/mentions/" + std::to_string(mention_id) + "/read", ana);
  ASSERT_TRUE(wrong_user.ok());
  EXPECT_EQ(wrong_user->status, 404);

  auto read = stack->Call("POST", "/api/mentions/" + std::to_string(mention_id) + "/read", bea);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->status, 204) << read->body;
  inbox = stack->Call("GET", "/api/users/me/mentions?unread=true", bea);
  ASSERT_TRUE(inbox.ok());
  EXPECT_EQ(ParseJson(inbox->body)->doc["mentions"].Size(), 0u) << inbox->body;
  inbox = stack->Call("GET", "/api/users/me/mentions", bea);
  ASSERT_TRUE(inbox.ok());
  list = ParseJson(inbox->body);
  ASSERT_EQ(list->doc["mentions"].Size(), 1u);
  EXPECT_TRUE(list->doc["mentions"][0]["read"].GetBool());

  // Closing bea's last connection takes her offline at once.
  ASSERT_TRUE(bea_elsewhere->Close().ok());
  EXPECT_TRUE(WaitFor([&] {
    auto n = stack->redis().Command({"ZCARD", OnlineKey(stack->config().RedisPrefix(), bea.id)});
    return n.ok() && n->integer == 0;
  }));
}

TEST_F(AnalysisTest, MaskRoomNeverShowsUnmaskedProfanityToAnotherClient) {
  ASSERT_TRUE(stack->StartWorkerProcess("tag").ok());
  auto room = Room("clean", "mask");
  ASSERT_TRUE(room.ok()) << room.status().ToString();
  auto a = Connect(ana, *room), b = Connect(bea, *room);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->SendText(Send(*room, "esto es una mierda, what the fuuuck")).ok());
  // Everything bea receives about the room is free of the words; the message frame carries the tags.
  auto message = ReceiveType(*b, "message");
  ASSERT_TRUE(message.ok()) << message.status().ToString();
  const std::string text = message->doc["text"].GetString();
  EXPECT_EQ(text.find("mierda"), std::string::npos) << message->text;
  EXPECT_EQ(text.find("fu"), std::string::npos) << message->text;
  EXPECT_NE(text.find("m*****"), std::string::npos) << message->text;
  ASSERT_TRUE(message->doc.HasMember("tags")) << message->text;
  EXPECT_TRUE(message->doc["tags"]["profanity"]["flagged"].GetBool());
  EXPECT_EQ(message->text.find("mierda"), std::string::npos) << message->text;
  for (const Json& j : FramesAfterTheTagWorker(*a, *b, *room, text)) {
    EXPECT_EQ(j.text.find("mierda"), std::string::npos) << j.text;
    EXPECT_NE(j.Type(), "tags") << "the message frame had its tags already: " << j.text;
  }
  // Ingress tagged it; the row stores the version of ingress's tagger, which the event carried.
  auto tagger = Tagger::Load(DefaultTagDataDir());
  ASSERT_TRUE(tagger.ok());
  auto version = stack->pg().Exec("SELECT DISTINCT tagger_version FROM message_tags WHERE room_id = $1",
                                  {std::to_string(*room)});
  ASSERT_TRUE(version.ok() && version->rows() == 1);
  EXPECT_EQ(version->Text(0, 0), (*tagger)->version());
  // Nor does the history, from Redis or from PostgreSQL.
  for (const char* q : {"?limit=10", "?limit=50"}) {
    auto h = stack->Call("GET", "/api/rooms/" + std::to_string(*room) + "/messages" + q, bea);
    ASSERT_TRUE(h.ok() && h->status == 200);
    EXPECT_EQ(h->body.find("mierda"), std::string::npos) << h->body;
    EXPECT_NE(h->body.find("m*****"), std::string::npos) << h->body;
  }
  auto stored = stack->pg().Exec("SELECT count(*) FROM messages WHERE body LIKE '%mierda%'");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->Int(0, 0), 0);
}

// Tags reach clients inside the message frame, not in a second broadcast to every subscriber.
TEST_F(AnalysisTest, TagRoomShowsTheTextWithItsTagsInOneFrame) {
  ASSERT_TRUE(stack->StartWorkerProcess("tag").ok());
  auto room = stack->CreateRoom(ana, "open");
  ASSERT_TRUE(room.ok());
  auto a = Connect(ana, *room), b = Connect(bea, *room);
  ASSERT_TRUE(a && b);
  const std::string text = "I love this, it is fucking wonderful!";
  ASSERT_TRUE(a->SendText(Send(*room, text)).ok());
  auto message = ReceiveType(*b, "message");
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(message->doc["text"].GetString(), text);
  ASSERT_TRUE(message->doc.HasMember("tags")) << message->text;
  EXPECT_STREQ(message->doc["tags"]["sentiment"]["label"].GetString(), "positive");
  EXPECT_STREQ(message->doc["tags"]["lang"].GetString(), "en");
  // A strong word in a tag room: the masked text comes beside the text, for the client to choose.
  EXPECT_TRUE(message->doc["tags"]["profanity"]["flagged"].GetBool()) << message->text;
  EXPECT_STREQ(message->doc["tags"]["profanity"]["masked"].GetString(), "I love this, it is f****** wonderful!");
  for (const Json& j : FramesAfterTheTagWorker(*a, *b, *room, text)) {
    EXPECT_NE(j.Type(), "tags") << j.text;
    // An unflagged message's tags do not repeat its text.
    if (j.Type() == "message") {
      EXPECT_FALSE(j.doc["tags"]["profanity"].HasMember("masked")) << j.text;
    }
  }
  // The stored history carries the tags too, from Redis and from PostgreSQL.
  for (const char* q : {"?limit=10", "?limit=50"}) {
    auto h = stack->Call("GET", "/api/rooms/" + std::to_string(*room) + "/messages" + q, bea);
    ASSERT_TRUE(h.ok() && h->status == 200);
    EXPECT_NE(h->body.find("\"positive\""), std::string::npos) << h->body;
  }
}

// The tag worker stores a message's tags up to 100 ms after the persister stored the message (here it
// does not run at all). A page read from PostgreSQL meanwhile carries the tags ingress gave the
// message, as its frame did: the HTTP history, and a join's replay that the Redis list (the newest 10)
// does not reach. Without them a client would show a tag room's strong words bare, with no `masked`.
TEST_F(AnalysisTest, HistoryFromPostgreSqlCarriesTheTagsBeforeTheTagWorkerStoresThem) {
  auto room = stack->CreateRoom(ana, "untagged");
  ASSERT_TRUE(room.ok());
  auto a = Connect(ana, *room);
  ASSERT_TRUE(a);
  const std::string rude = "you are a fucking idiot";
  for (int i = 0; i <= kHistoryCap; ++i) {
    ASSERT_TRUE(a->SendText(Send(*room, i == 0 ? rude : "message " + std::to_string(i))).ok());
    auto ack = Answer(*a);
    ASSERT_TRUE(ack.ok());
    ASSERT_EQ(ack->Type(), "ack") << ack->text;
  }
  ASSERT_TRUE(WaitFor([&] {
    auto n = stack->pg().Exec("SELECT count(*) FROM messages WHERE room_id = $1", {std::to_string(*room)});
    return n.ok() && n->Int(0, 0) == kHistoryCap + 1;
  }, std::chrono::seconds(20)));
  auto stored_tags = stack->pg().Exec("SELECT count(*) FROM message_tags WHERE room_id = $1", {std::to_string(*room)});
  ASSERT_TRUE(stored_tags.ok());
  ASSERT_EQ(stored_tags->Int(0, 0), 0) << "no tag worker runs in this test";
  auto expect_tags = [&](const rapidjson::Value& frame, const std::string& where) {
    ASSERT_TRUE(frame.HasMember("tags")) << where;
    EXPECT_STREQ(frame["tags"]["profanity"]["level"].GetString(), "strong") << where;
    EXPECT_STREQ(frame["tags"]["profanity"]["masked"].GetString(), "you are a f****** idiot") << where;
  };
  auto h = stack->Call("GET", "/api/rooms/" + std::to_string(*room) + "/messages?limit=50", bea);
  ASSERT_TRUE(h.ok() && h->status == 200);
  auto page = ParseJson(h->body);
  ASSERT_TRUE(page.ok());
  const auto& messages = page->doc["messages"];
  ASSERT_EQ(messages.Size(), static_cast<unsigned>(kHistoryCap + 1)) << h->body;
  expect_tags(messages[messages.Size() - 1], h->body);  // newest first: the rude one is the oldest
  for (unsigned i = 0; i < messages.Size(); ++i) EXPECT_TRUE(messages[i].HasMember("tags")) << h->body;
  auto b = Connect(bea);
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->SendText("{\"type\":\"join\",\"room\":" + std::to_string(*room) + ",\"after\":0}").ok());
  auto replayed = ReceiveType(*b, "message");
  ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
  EXPECT_EQ(replayed->doc["text"].GetString(), rude);
  expect_tags(replayed->doc, replayed->text);
}

TEST_F(AnalysisTest, BlockRoomRefusesProfanityWithAReason) {
  auto room = Room("strict", "block");
  ASSERT_TRUE(room.ok());
  auto a = Connect(ana, *room);
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->SendText(Send(*room, "que m1erda")).ok());
  auto e = ReceiveUntil(*a, [](const Json& j) { return j.Type() == "error" || j.Type() == "ack"; });
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->Type(), "error") << e->text;
  EXPECT_STREQ(e->doc["code"].GetString(), "blocked");
  auto post = stack->Call("POST", "/api/rooms/" + std::to_string(*room) + "/messages", ana, "{\"text\":\"shit\"}");
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 422) << post->body;
  // Innocent look-alikes pass.
  ASSERT_TRUE(a->SendText(Send(*room, "la computadora de Scunthorpe")).ok());
  auto ack = ReceiveUntil(*a, [](const Json& j) { return j.Type() == "error" || j.Type() == "ack"; });
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->Type(), "ack") << ack->text;
}

// Each level has its room's policy: mild words pass with their tags, strong ones are masked, or refused.
TEST_F(AnalysisTest, MildAndStrongWordsEachFollowTheirRoomsPolicy) {
  auto mask = Room("strong-masked", R"({"strong":"mask"})", "tag", "mask");
  auto block = Room("strong-blocked", R"({"mild":"tag","strong":"block"})", "tag", "block");
  ASSERT_TRUE(mask.ok() && block.ok());
  auto a = Connect(ana, *mask), b = Connect(bea, *mask);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->SendText(Send(*mask, "damn, what the fuck")).ok());
  auto message = ReceiveType(*b, "message");
  ASSERT_TRUE(message.ok()) << message.status().ToString();
  EXPECT_STREQ(message->doc["text"].GetString(), "damn, what the f***") << message->text;
  const auto& profanity = message->doc["tags"]["profanity"];
  EXPECT_STREQ(profanity["level"].GetString(), "strong") << message->text;
  ASSERT_EQ(profanity["terms"].Size(), 2u) << message->text;
  EXPECT_STREQ(profanity["terms"][0].GetString(), "damn");  // a mild term is not masked here
  EXPECT_STREQ(profanity["levels"][0].GetString(), "mild");
  EXPECT_STREQ(profanity["terms"][1].GetString(), "f***");
  EXPECT_STREQ(profanity["levels"][1].GetString(), "strong");

  auto c = Connect(ana, *block);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->SendText(Send(*block, "damn, the bus is late again")).ok());
  auto ack = Answer(*c);
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->Type(), "ack") << ack->text;
  ASSERT_TRUE(c->SendText(Send(*block, "f u c k this bus")).ok());
  auto refused = Answer(*c);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->Type(), "error") << refused->text;
  EXPECT_STREQ(refused->doc["code"].GetString(), "blocked");
  EXPECT_NE(refused->text.find("strong"), std::string::npos) << refused->text;

  // Mild words shown in a tag room, not masked: the tags do not repeat the text.
  auto open = Room("open-mild", R"("tag")", "tag", "tag");
  ASSERT_TRUE(open.ok());
  auto d = Connect(ana, *open), e = Connect(bea, *open);
  ASSERT_TRUE(d && e);
  ASSERT_TRUE(d->SendText(Send(*open, "damn, the milk is off")).ok());
  auto mild = ReceiveType(*e, "message");
  ASSERT_TRUE(mild.ok());
  EXPECT_STREQ(mild->doc["tags"]["profanity"]["level"].GetString(), "mild") << mild->text;
  EXPECT_FALSE(mild->doc["tags"]["profanity"].HasMember("masked")) << mild->text;

  // A policy that is not one of the three, a level that does not exist, or strong words treated more
  // leniently than mild ones, is refused at creation.
  for (const char* bad : {R"("hide")", R"({"mild":"hide"})", R"({"severe":"block"})", "[]", "1",
                          R"({"mild":"mask"})", R"({"mild":"block","strong":"mask"})"}) {
    auto r = stack->Call("POST", "/api/rooms", ana, std::string("{\"name\":\"odd\",\"moderation\":") + bad + "}");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 400) << bad << " " << r->body;
    EXPECT_NE(r->body.find("bad_field"), std::string::npos) << r->body;
  }
}

// The author's own name is a name, even when it reads as a bad word; someone else's use of it is not.
TEST_F(AnalysisTest, AuthorsOwnNameIsNeverProfanity) {
  auto cabron = stack->Register("cabron");
  ASSERT_TRUE(cabron.ok());
  auto room = Room("names", "block");
  ASSERT_TRUE(room.ok());
  auto own = Connect(*cabron, *room), other = Connect(bea, *room);
  ASSERT_TRUE(own && other);
  ASSERT_TRUE(own->SendText(Send(*room, "hola, soy cabron")).ok());
  auto ack = Answer(*own);
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->Type(), "ack") << ack->text;
  ASSERT_TRUE(other->SendText(Send(*room, "eres un cabron")).ok());
  auto refused = Answer(*other);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->Type(), "error") << refused->text;
}

// RoomAccess keeps at most --room-access-cache rooms per loop. With a cap of 2 and one loop, checking
// three other rooms evicts the block room's entry; its messages are still refused, over WebSocket and
// HTTP: the moderation comes from Check, never from a lookup that would fall back to "tag".
TEST_F(AnalysisTest, BlockRoomStillBlocksAfterItsAccessEntryWasEvicted) {
  auto capped = TestStack::Create();
  ASSERT_TRUE(capped.ok());
  std::unique_ptr<TestStack> s = std::move(*capped);
  ASSERT_TRUE(s->StartIngress([](IngressConfig& c) {
                 c.threads = 1;
                 c.room_access_cache = 2;
               }).ok());
  auto owner = s->Register("owner");
  ASSERT_TRUE(owner.ok());
  auto create = [&](const std::string& name, const std::string& moderation) -> int64_t {
    auto r = s->Call("POST", "/api/rooms", *owner, "{\"name\":\"" + name + "\",\"moderation\":\"" + moderation + "\"}");
    EXPECT_TRUE(r.ok() && r->status == 201) << (r.ok() ? r->body : r.status().ToString());
    return r.ok() && r->status == 201 ? ParseJson(r->body)->doc["id"].GetInt64() : 0;
  };
  auto evictions = [&] {
    auto m = s->Call("GET", "/metrics", *owner);
    const std::string name = "\nchatpipe_ingress_room_access_evictions_total ";
    size_t at = m.ok() ? m->body.find(name) : std::string::npos;
    return at == std::string::npos ? int64_t{-1} : std::stoll(m->body.substr(at + name.size()));
  };
  int64_t block = create("strict", "block");
  ASSERT_TRUE(block);
  auto ws = s->Connect(*owner);
  ASSERT_TRUE(ws.ok());
  ASSERT_TRUE((*ws)->SendText("{\"type\":\"join\",\"room\":" + std::to_string(block) + "}").ok());
  ASSERT_TRUE(ReceiveType(**ws, "joined").ok());
  const int64_t before = evictions();
  ASSERT_GE(before, 0);
  for (const char* name : {"one", "two", "three"}) {
    int64_t room = create(name, "tag");
    ASSERT_TRUE(room);
    auto h = s->Call("GET", "/api/rooms/" + std::to_string(room) + "/messages", *owner);
    ASSERT_TRUE(h.ok() && h->status == 200);
  }
  EXPECT_GE(evictions() - before, 2);  // three rooms into a cache of two that held the block room
  ASSERT_TRUE((*ws)->SendText(Send(block, "que m1erda")).ok());
  auto e = ReceiveUntil(**ws, [](const Json& j) { return j.Type() == "error" || j.Type() == "ack"; });
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->Type(), "error") << e->text;
  EXPECT_EQ(e->text.find("\"blocked\"") != std::string::npos, true) << e->text;
  for (const char* name : {"four", "five"}) {
    auto h = s->Call("GET", "/api/rooms/" + std::to_string(create(name, "tag")) + "/messages", *owner);
    ASSERT_TRUE(h.ok() && h->status == 200);
  }
  auto post = s->Call("POST", "/api/rooms/" + std::to_string(block) + "/messages", *owner, "{\"text\":\"shit\"}");
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 422) << post->body;
}

TEST_F(AnalysisTest, OfflineUserGetsOneBatchedEmailForThreeQuickMentions) {
  auto sink = stack->StartSmtpSink();
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  ASSERT_TRUE(stack->StartWorkerProcess("mention").ok());
  ASSERT_TRUE(stack->StartWorkerProcess("mail", {"--smtp", (*sink)->url(), "--window-ms", "1500"}).ok());
  auto general = stack->CreateRoom(ana, "general");
  ASSERT_TRUE(general.ok());
  auto a = Connect(ana, *general);
  ASSERT_TRUE(a);
  // bea never connects: she is offline, with an address and e-mail notifications on (the default).
  for (const char* text : {"@bea first", "second, @bea?", "third for @bea."})
    ASSERT_TRUE(a->SendText(Send(*general, text)).ok());

  ASSERT_TRUE(WaitFor([&] { return !(*sink)->Mails().empty(); }, std::chrono::seconds(30)));
  // One mention digest for bea, sent, carrying the three mentions; ana (the sender) has none.
  // (Their addresses were verified at sign-up, so their verification e-mails were dropped.)
  ASSERT_TRUE(WaitFor([&] {
    auto r = stack->pg().Exec("SELECT state FROM mail_outbox WHERE user_id = $1 AND template = 'mentions'",
                              {std::to_string(bea.id)});
    return r.ok() && r->rows() == 1 && r->Text(0, 0) == "sent";
  }));
  auto carried = stack->pg().Exec(
      "SELECT count(*) FROM mail_mentions m JOIN mail_outbox o ON o.id = m.outbox_id WHERE o.user_id = $1",
      {std::to_string(bea.id)});
  ASSERT_TRUE(carried.ok());
  EXPECT_EQ(carried->Int(0, 0), 3);
  auto others = stack->pg().Exec("SELECT count(*) FROM mail_outbox WHERE user_id <> $1 AND template = 'mentions'", {std::to_string(bea.id)});
  ASSERT_TRUE(others.ok());
  EXPECT_EQ(others->Int(0, 0), 0);
  auto mails = (*sink)->Mails();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].rcpt, "bea@example.com");
}

TEST_F(AnalysisTest, EmailNotificationsCanBeSwitchedOff) {
  auto me = stack->Call("GET", "/api/users/me", bea);
  ASSERT_TRUE(me.ok() && me->status == 200) << (me.ok() ? me->body : "");
  auto settings = ParseJson(me->body);
  EXPECT_STREQ(settings->doc["email"].GetString(), "bea@example.com");
  EXPECT_TRUE(settings->doc["email_notifications"].GetBool());
  auto off = stack->Call("PATCH", "/api/users/me", bea, "{\"email_notifications\":false}");
  ASSERT_TRUE(off.ok() && off->status == 200) << (off.ok() ? off->body : "");
  EXPECT_FALSE(ParseJson(off->body)->doc["email_notifications"].GetBool());
  auto stored = stack->pg().Exec("SELECT email_notifications FROM users WHERE id = $1", {std::to_string(bea.id)});
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->Bool(0, 0));
  auto bad = stack->Call("PATCH", "/api/users/me", bea, "{\"email_notifications\":\"no\"}");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400) << bad->body;

  // Mentioned while offline, she now gets no e-mail. cid, mentioned next with notifications on, does:
  // chat.notify has one partition here, so once the mailer has cid's mention, bea's would be there too.
  auto one_partition = TestStack::Create(/*partitions=*/1);
  ASSERT_TRUE(one_partition.ok());
  std::unique_ptr<TestStack> s2 = std::move(*one_partition);
  ASSERT_TRUE(s2->StartIngress().ok());
  ASSERT_TRUE(s2->StartPersister().ok());
  auto ana2 = s2->Register("ana"), bea2 = s2->Register("bea"), cid2 = s2->Register("cid");
  ASSERT_TRUE(ana2.ok() && bea2.ok() && cid2.ok());
  ASSERT_TRUE(s2->Call("PATCH", "/api/users/me", *bea2, "{\"email_notifications\":false}").ok());
  auto sink = s2->StartSmtpSink();
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE(s2->StartWorkerProcess("mention").ok());
  ASSERT_TRUE(s2->StartWorkerProcess("mail", {"--smtp", (*sink)->url()}).ok());
  auto room = s2->CreateRoom(*ana2, "general");
  ASSERT_TRUE(room.ok());
  const std::string path = "/api/rooms/" + std::to_string(*room) + "/messages";
  ASSERT_TRUE(s2->Call("POST", path, *ana2, "{\"text\":\"@bea are you there?\"}").ok());
  ASSERT_TRUE(s2->Call("POST", path, *ana2, "{\"text\":\"@cid and you?\"}").ok());
  auto recorded = [&](int64_t user) {
    auto r = s2->pg().Exec("SELECT count(*) FROM mail_mentions WHERE user_id = $1", {std::to_string(user)});
    return r.ok() ? r->Int(0, 0) : -1;
  };
  ASSERT_TRUE(WaitFor([&] { return recorded(cid2->id) == 1; }, std::chrono::seconds(30)));
  EXPECT_EQ(recorded(bea2->id), 0);
  auto mentioned = s2->pg().Exec("SELECT count(*) FROM mentions WHERE user_id = $1", {std::to_string(bea2->id)});
  ASSERT_TRUE(mentioned.ok());
  EXPECT_EQ(mentioned->Int(0, 0), 1) << "the mention itself is still stored, for the inbox";
}

}  // namespace
}  // namespace chatpipe::test
