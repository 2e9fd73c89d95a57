// The chat and mention stores on a migrated database of the test's own (tests/support/services.h).
#include "storage/chat_store.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <regex>
#include <set>

#include "storage/mention_store.h"
#include "storage/pg.h"
#include "tests/support/services.h"

namespace chatpipe {
namespace {

// `before` is any position or mention id a client sends back, up to 2^63-1; PostgreSQL used to take
// the parameter for an integer and answer "out of range" above 2^31-1 (found by the API check,
// tests/api/run).
TEST(ChatStoreTest, PagesBeforeAnyInt64Position) {
  auto services = test::TestServices::Create("store", 1);
  ASSERT_TRUE(services.ok()) << services.status().ToString();
  PgConn pg((*services)->config().pg_conninfo);
  auto user = CreateGuest(pg);
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  auto room = CreateRoom(pg, user->id, "pages", false, Moderation{});
  ASSERT_TRUE(room.ok()) << room.status().ToString();
  constexpr int64_t kHuge = std::numeric_limits<int64_t>::max();
  auto messages = MessagesBefore(pg, room->id, kHuge, 10);
  ASSERT_TRUE(messages.ok()) << messages.status().ToString();
  EXPECT_TRUE(messages->empty());
  auto mentions = GetMentions(pg, user->id, false, kHuge, 10);
  ASSERT_TRUE(mentions.ok()) << mentions.status().ToString();
  EXPECT_TRUE(mentions->mentions.empty());
}

TEST(ChatStoreTest, GuestNamesAreTenRandomDigits) {
  auto services = test::TestServices::Create("guests", 1);
  ASSERT_TRUE(services.ok()) << services.status().ToString();
  PgConn pg((*services)->config().pg_conninfo);
  std::set<std::string> names;
  for (int i = 0; i < 50; ++i) {
    auto guest = CreateGuest(pg);
    ASSERT_TRUE(guest.ok()) << guest.status().ToString();
    EXPECT_TRUE(std::regex_match(guest->name, std::regex("guest-[1-9][0-9]{9}"))) << guest->name;
    EXPECT_TRUE(guest->guest);
    names.insert(guest->name);
  }
  EXPECT_EQ(names.size(), 50u);
}

}  // namespace
}  // namespace chatpipe
