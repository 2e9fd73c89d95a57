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

}  // namespace
}  // namespace chatpipe
