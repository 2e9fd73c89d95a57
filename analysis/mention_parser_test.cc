#include "analysis/mention_parser.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

using Names = std::vector<std::vector<std::string>>;

// The first candidate of each user mention: the whole name as written, lower-cased.
std::vector<std::string> Users(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& candidates : ParseMentions(text).users) out.push_back(candidates.front());
  return out;
}

using V = std::vector<std::string>;

TEST(MentionParser, NameAtStartOrAfterWhitespace) {
  EXPECT_EQ(Users("@rodo hola"), V{"rodo"});
  EXPECT_EQ(Users("hola @rodo"), V{"rodo"});
  EXPECT_EQ(Users("hola\n@rodo\t@ana"), (V{"rodo", "ana"}));
  EXPECT_EQ(Users("@rodo"), V{"rodo"});
}

TEST(MentionParser, TrailingPunctuationStillCounts) {
  for (const char* text : {"@rodo,", "@rodo?", "@rodo!", "@rodo:", "@rodo;", "(@rodo)", "\"@rodo\"", "@rodo's",
                           "¿@rodo?", "¡@rodo!", "«@rodo»", "“@rodo”", "@rodo…", "*@rodo*", "[@rodo]"}) {
    auto parsed = ParseMentions(text);
    ASSERT_EQ(parsed.users.size(), 1u) << text;
    EXPECT_EQ(parsed.users[0].back(), "rodo") << text;
  }
}

TEST(MentionParser, DotAndDashMayEndANameSoBothFormsAreCandidates) {
  EXPECT_EQ(ParseMentions("gracias @rodo.").users, (Names{{"rodo.", "rodo"}}));
  EXPECT_EQ(ParseMentions("@rodo.-").users, (Names{{"rodo.-", "rodo.", "rodo"}}));
  EXPECT_EQ(ParseMentions("@ana.b-c").users, (Names{{"ana.b-c"}}));
  EXPECT_EQ(ParseMentions("@rodo...").users, (Names{{"rodo...", "rodo..", "rodo.", "rodo"}}));
}

TEST(MentionParser, EmailAddressesAndWordsAreNotMentions) {
  EXPECT_TRUE(ParseMentions("ana@example.com").empty());
  EXPECT_TRUE(ParseMentions("write to ana@example.com please").empty());
  EXPECT_TRUE(ParseMentions("@ana@example.com").empty());
  EXPECT_TRUE(ParseMentions("first.last@example.com").empty());
  EXPECT_TRUE(ParseMentions("josé@example.com").empty());
  EXPECT_TRUE(ParseMentions("x.@y x-@y x_@y x+@y").empty());
  EXPECT_TRUE(ParseMentions("https://mastodon.social/@rodo").empty());
  EXPECT_TRUE(ParseMentions("a=@b&c=@d").empty());
}

TEST(MentionParser, NamesAreAsciiAndBounded) {
  EXPECT_TRUE(ParseMentions("@josé").empty());  // no user "jos"
  EXPECT_TRUE(ParseMentions("@ @@ @!").empty());
  EXPECT_EQ(Users("@" + std::string(32, 'a')), V{std::string(32, 'a')});
  EXPECT_TRUE(ParseMentions("@" + std::string(33, 'a')).empty());
  EXPECT_EQ(Users("@" + std::string(32, 'a') + "."), V{std::string(32, 'a')});  // only the short form fits
  EXPECT_EQ(Users("hola @rodo👋"), V{"rodo"});
  EXPECT_EQ(Users("👋@rodo"), V{"rodo"});
}

TEST(MentionParser, CaseFoldedAndDeduplicated) {
  EXPECT_EQ(Users("@Rodo @RODO @rodo @ana"), (V{"rodo", "ana"}));
  EXPECT_EQ(Users("@guest-123456"), V{"guest-123456"});
}

TEST(MentionParser, RoomAllAndHere) {
  auto room = ParseMentions("@room look");
  EXPECT_TRUE(room.room);
  EXPECT_FALSE(room.here);
  EXPECT_TRUE(room.users.empty());
  EXPECT_TRUE(ParseMentions("hey @all!").room);
  EXPECT_TRUE(ParseMentions("@ALL.").room);
  auto here = ParseMentions("@Here, anyone?");
  EXPECT_TRUE(here.here);
  EXPECT_FALSE(here.room);
  EXPECT_FALSE(here.empty());
  EXPECT_TRUE(ParseMentions("me@here.com").empty());
  EXPECT_EQ(Users("@rooms @allison @hereford"), (V{"rooms", "allison", "hereford"}));
}

TEST(MentionParser, RoomLinks) {
  auto parsed = ParseMentions("see #General, #dev-ops and #general again; issue#12 and #_x are not links");
  EXPECT_EQ(parsed.rooms, (V{"general", "dev-ops"}));
  EXPECT_TRUE(parsed.empty());  // links notify nobody
  EXPECT_EQ(ParseMentions("#a").rooms, V{"a"});
  EXPECT_EQ(ParseMentions("#" + std::string(64, 'r')).rooms.size(), 1u);
  EXPECT_TRUE(ParseMentions("#" + std::string(65, 'r')).rooms.empty());
  EXPECT_TRUE(ParseMentions("#café").rooms.empty());
  EXPECT_EQ(ParseMentions("(#random)").rooms, V{"random"});
}

TEST(MentionParser, MalformedUtf8NeverBreaksIt) {
  EXPECT_EQ(Users("\xff@rodo"), V{});  // a malformed byte is not a boundary
  EXPECT_EQ(Users("\xe2\x80@rodo"), V{});
  EXPECT_EQ(Users("@rodo\xff"), V{});
  EXPECT_EQ(Users("\xc3"), V{});
  EXPECT_EQ(Users("\xc0\xa0@rodo"), V{});      // an overlong space is malformed, not a space
  EXPECT_EQ(Users("\xe0\x82\xa0@rodo"), V{});  // nor an overlong no-break space
  EXPECT_EQ(Users(std::string("a\0 @rodo", 8)), V{"rodo"});
}

TEST(MentionParser, KeepsTheFirstMaxUsersNames) {
  const auto parsed = ParseMentions("@a @b @A @c @room @d", 2);
  ASSERT_EQ(parsed.users.size(), 2u);
  EXPECT_EQ(parsed.users[0].front(), "a");
  EXPECT_EQ(parsed.users[1].front(), "b");
  EXPECT_TRUE(parsed.more_users);
  EXPECT_TRUE(parsed.room);  // @room is not a user: it counts whatever the limit
  EXPECT_FALSE(ParseMentions("@a @b @a @B", 2).more_users);  // repeats are one name
  EXPECT_FALSE(ParseMentions("@a @b", 2).more_users);
}

TEST(MentionParser, ManyDistinctNamesAndRoomsInOrder) {
  std::string text;
  for (int k = 0; k < 500; ++k) text += "@u" + std::to_string(k) + " #r" + std::to_string(k % 250) + " ";
  const auto parsed = ParseMentions(text);
  ASSERT_EQ(parsed.users.size(), 500u);
  EXPECT_EQ(parsed.users[499].front(), "u499");
  ASSERT_EQ(parsed.rooms.size(), 250u);
  EXPECT_EQ(parsed.rooms[249], "r249");
}

TEST(MentionParser, LongRunOfDotsAfterAName) {
  const auto parsed = ParseMentions("@ana" + std::string(3000, '.'));
  ASSERT_EQ(parsed.users.size(), 1u);
  EXPECT_EQ(parsed.users[0].front(), "ana" + std::string(29, '.'));
  EXPECT_EQ(parsed.users[0].back(), "ana");
}

}  // namespace
}  // namespace chatpipe
