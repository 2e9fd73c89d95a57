#include "ingress/room_tags.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>

#include "analysis/tagger_suite.h"

namespace chatpipe {
namespace {

class RoomTagsTest : public TaggerSuite {
 protected:
  static StoredMessage Row(const std::string& author, const std::string& text, const std::string& tags = "") {
    StoredMessage m;
    m.event.user = {7, author};
    m.event.text = text;
    m.event.tags = tags;
    return m;
  }

  static rapidjson::Document Parse(const std::string& json) {
    rapidjson::Document d;
    d.Parse(json.data(), json.size());
    EXPECT_FALSE(d.HasParseError()) << json;
    return d;
  }

};

const Moderation kTagRoom{Policy::kTag, Policy::kTag};

TEST_F(RoomTagsTest, UntaggedRowsOfATagRoomGetTheTagsIngressGave) {
  std::vector<StoredMessage> rows = {Row("ana", "you are a fucking idiot"), Row("ana", "nice one, damn good")};
  TagUntaggedRows(*tagger_, kTagRoom, &rows);
  auto strong = Parse(rows[0].event.tags);
  ASSERT_TRUE(strong.IsObject()) << rows[0].event.tags;
  EXPECT_TRUE(strong["profanity"]["flagged"].GetBool());
  EXPECT_STREQ(strong["profanity"]["level"].GetString(), "strong");
  // What a client shows until its reader reveals the words: strong ones masked even where tagged.
  EXPECT_STREQ(strong["profanity"]["masked"].GetString(), "you are a f****** idiot");
  // Mild words are shown in a room that does not mask them: flagged, with nothing masked.
  auto mild = Parse(rows[1].event.tags);
  EXPECT_STREQ(mild["profanity"]["level"].GetString(), "mild");
  EXPECT_FALSE(mild["profanity"].HasMember("masked")) << rows[1].event.tags;
  // The same options as at intake, so the same tags as the message frame carried.
  EXPECT_EQ(rows[0].event.tags,
            TagsToJson(tagger_->Analyze("you are a fucking idiot", RoomTagOptions(kTagRoom, "ana"))));
}

TEST_F(RoomTagsTest, TheAuthorsOwnNameIsNoBadWord) {
  std::vector<StoredMessage> rows = {Row("cabron", "hola, soy cabron"), Row("bea", "hola, soy cabron")};
  TagUntaggedRows(*tagger_, kTagRoom, &rows);
  EXPECT_FALSE(Parse(rows[0].event.tags)["profanity"]["flagged"].GetBool()) << rows[0].event.tags;
  EXPECT_TRUE(Parse(rows[1].event.tags)["profanity"]["flagged"].GetBool()) << rows[1].event.tags;
}

TEST_F(RoomTagsTest, LeavesTaggedRowsImagesAndMaskRoomsAsStored) {
  std::vector<StoredMessage> rows = {Row("ana", "you are a fucking idiot", "{\"lang\":\"en\"}"), Row("ana", "")};
  TagUntaggedRows(*tagger_, kTagRoom, &rows);
  EXPECT_EQ(rows[0].event.tags, "{\"lang\":\"en\"}");  // the tag worker's, perhaps of another version
  EXPECT_EQ(rows[1].event.tags, "");                   // an image with no caption: nothing to tag
  // A room that masks a level stored the masked text: the original is gone, so nothing is made up.
  for (Moderation masks : {Moderation{Policy::kTag, Policy::kMask}, Moderation{Policy::kMask, Policy::kMask}}) {
    std::vector<StoredMessage> masked = {Row("ana", "you are a f****** idiot")};
    TagUntaggedRows(*tagger_, masks, &masked);
    EXPECT_EQ(masked[0].event.tags, "");
  }
}

// A read tags at most kTagOnReadBytes of text, the newest rows first, in either order of rows.
TEST_F(RoomTagsTest, TagsTheNewestRowsUpToItsBudget) {
  const std::string long_text = std::string(3990, 'a') + " shit";  // 16 of them fit the budget, not 17
  static_assert(16 * 3995 <= kTagOnReadBytes && 17 * 3995 > kTagOnReadBytes);
  for (bool newest_first : {true, false}) {
    std::vector<StoredMessage> rows;
    for (int pos = 1; pos <= 20; ++pos) {
      rows.push_back(Row("ana", long_text));
      rows.back().pos = pos;
    }
    if (newest_first) std::reverse(rows.begin(), rows.end());
    TagUntaggedRows(*tagger_, kTagRoom, &rows);
    for (const StoredMessage& m : rows)
      EXPECT_EQ(m.event.tags.empty(), m.pos <= 4) << "position " << m.pos << (newest_first ? ", newest first" : "");
  }
}

}  // namespace
}  // namespace chatpipe
