#include "analysis/lexicon_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "analysis/language.h"

namespace chatpipe::analysis {
namespace {

class LexiconFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/lexicon_file_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ + "/" + name) << text; }
  std::string dir_;
};

TEST_F(LexiconFileTest, SplitsFieldsAndSkipsCommentsAndBlankLines) {
  Write("a.txt", "# comment\n\nes  uno\tdos\r\n   \nen one\n");
  LexiconReader reader(dir_);
  std::vector<std::vector<std::string>> got;
  ASSERT_TRUE(reader.ForEachLine("a.txt", [&](const Fields& f) {
                      got.emplace_back(f.begin(), f.end());
                      return Status::Ok();
                    }).ok());
  EXPECT_EQ(got, (std::vector<std::vector<std::string>>{{"es", "uno", "dos"}, {"en", "one"}}));
}

TEST_F(LexiconFileTest, RefusedLineFailsWithFileAndLine) {
  Write("a.txt", "# comment\nok\nbad\n");
  LexiconReader reader(dir_);
  Status st = reader.ForEachLine("a.txt", [](const Fields& f) {
    return f[0] == "bad" ? LexiconError("not this one") : Status::Ok();
  });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.detail(), dir_ + "/a.txt:3: not this one");
  EXPECT_EQ(st.name(), "tag_data");
}

TEST_F(LexiconFileTest, MissingFileFailsWithItsPath) {
  LexiconReader reader(dir_);
  Status st = reader.ForEachLine("none.txt", [](const Fields&) { return Status::Ok(); });
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.detail().find(dir_ + "/none.txt"), std::string::npos) << st.detail();
}

TEST_F(LexiconFileTest, VersionFollowsContentsAndCode) {
  auto version_of = [&](const std::string& text, const std::string& code) {
    Write("a.txt", text);
    LexiconReader reader(dir_);
    EXPECT_TRUE(reader.ForEachLine("a.txt", [](const Fields&) { return Status::Ok(); }).ok());
    return reader.Version(code);
  };
  const std::string v = version_of("es uno\n", "1");
  EXPECT_EQ(v.size(), 12u);
  EXPECT_EQ(v.find_first_not_of("0123456789abcdef"), std::string::npos) << v;
  EXPECT_EQ(version_of("es uno\n", "1"), v);
  EXPECT_NE(version_of("es uno \n", "1"), v);  // any byte counts, even where fields do not change
  EXPECT_NE(version_of("es uno\n", "2"), v);
}

TEST(LexiconFields, ParseLangNumberAndForms) {
  int lang = -1;
  EXPECT_TRUE(ParseLang("pt", &lang).ok());
  EXPECT_EQ(lang, kPt);
  EXPECT_FALSE(ParseLang("fr", &lang).ok());
  double v = 0;
  EXPECT_TRUE(ParseNumber("-1.5", -4, 4, &v).ok());
  EXPECT_EQ(v, -1.5);
  EXPECT_FALSE(ParseNumber("4.5", -4, 4, &v).ok());
  EXPECT_FALSE(ParseNumber("1x", -4, 4, &v).ok());
  EXPECT_EQ(ExpandForms("bueno"), std::vector<std::string>{"bueno"});
  EXPECT_EQ(ExpandForms("buen|o|a|"), (std::vector<std::string>{"bueno", "buena", "buen"}));
}

}  // namespace
}  // namespace chatpipe::analysis
