// `chatpipe ingress --short-circuit`, the benchmark floor: messages are acked and fanned out by the
// ingress process alone, with positions that continue the room's history, and none of them reaches
// Kafka (so the floor measures the socket layer, not a pipeline that half runs).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/stack.h"

namespace chatpipe::test {
namespace {

std::string SendFrame(int64_t room, const std::string& text) {
  return "{\"type\":\"send\",\"room\":" + std::to_string(room) + ",\"text\":\"" + text + "\",\"client_msg_id\":\"" +
         text + "\"}";
}

// With one loop (a message is fanned out at once) and with two (frames cross between them by post,
// the accepting loop's own included, so that each loop sees a room's frames in position order).
class ShortCircuitTest : public ::testing::TestWithParam<int> {};
INSTANTIATE_TEST_SUITE_P(Loops, ShortCircuitTest, ::testing::Values(1, 2));

TEST_P(ShortCircuitTest, AcksAndFansOutInTheProcessAndStoresNothing) {
  auto created = TestStack::Create();
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  TestStack& stack = **created;
  ASSERT_TRUE(stack.StartIngress().ok());
  ASSERT_TRUE(stack.StartPersister().ok());
  auto ana = stack.Register("ana"), bea = stack.Register("bea");
  ASSERT_TRUE(ana.ok() && bea.ok());
  auto room = stack.CreateRoom(*ana, "floor");
  ASSERT_TRUE(room.ok());
  const std::string path = "/api/rooms/" + std::to_string(*room) + "/messages";
  for (int i = 1; i <= 3; ++i) {
    auto r = stack.Call("POST", path, *ana, "{\"text\":\"stored " + std::to_string(i) + "\"}");
    ASSERT_TRUE(r.ok() && r->status == 202);
  }
  ASSERT_TRUE(WaitFor([&] { return stack.CountMessages(*room).value_or(0) == 3; }));

  // The same deployment with a short-circuited ingress.
  stack.StopIngress();
  ASSERT_TRUE(stack.StartIngress([](IngressConfig& c) {
    c.short_circuit = true;
    c.threads = GetParam();
  }).ok());
  std::vector<std::unique_ptr<WsClient>> clients;
  for (const TestUser* user : {&*ana, &*bea}) {
    auto ws = stack.Connect(*user);
    ASSERT_TRUE(ws.ok()) << ws.status().ToString();
    ASSERT_TRUE((*ws)->SendText("{\"type\":\"join\",\"room\":" + std::to_string(*room) + "}").ok());
    auto joined = ReceiveType(**ws, "joined");
    ASSERT_TRUE(joined.ok()) << joined.status().ToString();
    EXPECT_EQ(joined->doc["pos"].GetInt64(), 3);
    clients.push_back(std::move(*ws));
  }
  constexpr int kEach = 10;
  for (int i = 0; i < kEach; ++i)
    for (size_t c = 0; c < clients.size(); ++c)
      ASSERT_TRUE(clients[c]->SendText(SendFrame(*room, "c" + std::to_string(c) + "-" + std::to_string(i))).ok());

  // Both see every message once, in one order, at positions 4, 5, ...; each sender gets its acks.
  std::vector<std::vector<std::string>> seen(clients.size());
  for (size_t c = 0; c < clients.size(); ++c) {
    int acks = 0;
    while (seen[c].size() < clients.size() * kEach || acks < kEach) {
      auto f = ReceiveUntil(*clients[c], [](const Json& j) { return j.Type() == "message" || j.Type() == "ack"; });
      ASSERT_TRUE(f.ok()) << f.status().ToString() << " after " << seen[c].size() << " messages, " << acks << " acks";
      if (f->Type() == "ack") {
        EXPECT_EQ(std::string(f->doc["client_msg_id"].GetString()).substr(0, 2), "c" + std::to_string(c));
        ++acks;
        continue;
      }
      EXPECT_EQ(f->doc["pos"].GetInt64(), 4 + static_cast<int64_t>(seen[c].size())) << f->text;
      seen[c].push_back(f->doc["text"].GetString());
    }
  }
  EXPECT_EQ(seen[0], seen[1]);

  // Nothing went to Kafka: a message sent through the whole pipeline afterwards is the room's 4th,
  // and it is stored after the three that came before the floor, with nothing between them.
  stack.StopIngress();
  ASSERT_TRUE(stack.StartIngress().ok());
  auto r = stack.Call("POST", path, *ana, "{\"text\":\"through the pipeline\"}");
  ASSERT_TRUE(r.ok() && r->status == 202);
  ASSERT_TRUE(WaitFor([&] { return stack.CountMessages(*room).value_or(0) >= 4; }));
  EXPECT_EQ(stack.CountMessages(*room).value_or(0), 4);
  // The history is served from Redis, which the persister updates after PostgreSQL's commit.
  Result<Json> body = Status::Unavailable("no_answer", "the history never showed the 4th message");
  ASSERT_TRUE(WaitFor([&] {
    auto newest = stack.Call("GET", path + "?limit=1", *ana);
    if (!newest.ok() || newest->status != 200) return false;
    body = ParseJson(newest->body);
    return body.ok() && body->doc["messages"].Size() == 1 && body->doc["messages"][0]["pos"].GetInt64() >= 4;
  }));
  EXPECT_EQ(body->doc["messages"][0]["pos"].GetInt64(), 4);
  EXPECT_STREQ(body->doc["messages"][0]["text"].GetString(), "through the pipeline");
}

}  // namespace
}  // namespace chatpipe::test
