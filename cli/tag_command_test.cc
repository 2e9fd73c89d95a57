#include "cli/tag_command.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace chatpipe {
namespace {

TEST(TagCommand, TagLinesWritesOneObjectPerLine) {
  auto tagger = Tagger::Load(DefaultTagDataDir());
  ASSERT_TRUE(tagger.ok()) << tagger.status().ToString();
  std::istringstream in("hola mundo\nwhat the fuck\r\n\nmuito bom\n");
  std::ostringstream out;
  TagLines(**tagger, in, out);
  std::istringstream lines(out.str());
  std::string line;
  std::vector<std::string> got;
  while (std::getline(lines, line)) got.push_back(line);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_NE(got[1].find("\"masked\":\"what the f***\""), std::string::npos) << got[1];
  // The masked text only where it differs from the text.
  EXPECT_EQ(got[0].find("\"masked\""), std::string::npos) << got[0];
  EXPECT_NE(got[2].find("\"flagged\":false"), std::string::npos) << got[2];
  EXPECT_EQ(got[2].find("\"masked\""), std::string::npos) << got[2];
  EXPECT_NE(got[3].find("\"lang\":\"pt\""), std::string::npos) << got[3];
}

// --lexicon-sentiment: the label is the lexicon score's, whatever the learned model says.
TEST(TagCommand, TagLinesPassesTheOptions) {
  auto tagger = Tagger::Load(DefaultTagDataDir());
  ASSERT_TRUE(tagger.ok()) << tagger.status().ToString();
  TagOptions lexicon_only;
  lexicon_only.learned_sentiment = false;
  const std::vector<std::string> texts = {"not bad at all", "meh, whatever", "que bom!!", "a que hora llegas?"};
  std::string text;
  for (const std::string& t : texts) text += t + "\n";
  std::istringstream in(text);
  std::ostringstream out;
  TagLines(**tagger, in, out, lexicon_only);
  std::string want;
  for (const std::string& t : texts) {
    const Tags tags = (*tagger)->Analyze(t, lexicon_only);
    const double s = tags.sentiment_score;
    EXPECT_EQ(tags.sentiment_label, s >= 0.05 ? "positive" : s <= -0.05 ? "negative" : "neutral") << t;
    want += TagsToJson(tags) + "\n";
  }
  EXPECT_EQ(out.str(), want);
}

}  // namespace
}  // namespace chatpipe
