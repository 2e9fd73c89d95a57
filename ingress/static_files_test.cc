#include "ingress/static_files.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace chatpipe {
namespace {

namespace fs = std::filesystem;

// A web root in a fresh temporary directory, removed with the fixture.
class StaticFilesTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "chatpipe-static-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const std::string& rel, const std::string& body) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel, std::ios::binary) << body;
  }
  std::unique_ptr<StaticFiles> Load() {
    auto files = StaticFiles::Load(root_.string());
    EXPECT_TRUE(files.ok()) << files.status().ToString();
    return files.ok() ? std::move(*files) : nullptr;
  }

  fs::path root_;
};

TEST_F(StaticFilesTest, MissingRootIsAClearError) {
  auto files = StaticFiles::Load((root_ / "nope").string());
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().name(), "no_web_root");
}

TEST_F(StaticFilesTest, ContentTypesAndCaching) {
  Write("index.html", "<!doctype html>");
  Write("assets/index-Ab12Cd.js", "js");
  Write("assets/index-Ef34Gh.css", "css");
  Write("assets/logo-1234.svg", "<svg/>");
  Write("favicon.png", "png");
  Write("notes.unknownext", "?");
  auto web = Load();
  ASSERT_TRUE(web);

  auto index = web->Select("/", "");
  ASSERT_TRUE(index);
  EXPECT_EQ(*index->body, "<!doctype html>");
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(index->cache_control, "no-cache");

  auto js = web->Select("/assets/index-Ab12Cd.js", "");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(js->cache_control, "public, max-age=31536000, immutable");
  EXPECT_EQ(web->Select("/assets/index-Ef34Gh.css", "")->content_type, "text/css; charset=utf-8");
  EXPECT_EQ(web->Select("/assets/logo-1234.svg", "")->content_type, "image/svg+xml");
  EXPECT_EQ(web->Select("/favicon.png", "")->content_type, "image/png");
  EXPECT_EQ(web->Select("/favicon.png", "")->cache_control, "no-cache");  // not hashed: revalidate
  EXPECT_EQ(web->Select("/notes.unknownext", "")->content_type, "application/octet-stream");
}

TEST_F(StaticFilesTest, ClientRoutesGetIndexButMissingAssetsAre404) {
  Write("index.html", "app");
  Write("assets/a-1.js", "js");
  auto web = Load();
  ASSERT_TRUE(web);
  auto route = web->Select("/rooms/12", "");
  ASSERT_TRUE(route);
  EXPECT_EQ(*route->body, "app");
  EXPECT_EQ(route->cache_control, "no-cache");
  EXPECT_FALSE(web->Select("/assets/gone-2.js", ""));
}

TEST_F(StaticFilesTest, PrecompressedVariantsFollowAcceptEncoding) {
  Write("index.html", "plain index");
  Write("index.html.gz", "gz index");
  Write("index.html.br", "br index");
  Write("assets/app-1.js", "plain js");
  Write("assets/app-1.js.gz", "gz js");
  Write("assets/tiny-2.css", "tiny");  // too small to be worth compressing: no variants
  auto web = Load();
  ASSERT_TRUE(web);
  // The variants are not files of their own.
  EXPECT_EQ(web->size(), 3u);
  EXPECT_EQ(*web->Select("/index.html.gz", "")->body, "plain index");  // a route, so index.html

  auto br = web->Select("/", "gzip, deflate, br");
  EXPECT_EQ(*br->body, "br index");
  EXPECT_EQ(br->content_encoding, "br");
  EXPECT_TRUE(br->vary);
  EXPECT_EQ(br->content_type, "text/html; charset=utf-8");  // the type of what was compressed

  auto gz = web->Select("/", "gzip");
  EXPECT_EQ(*gz->body, "gz index");
  EXPECT_EQ(gz->content_encoding, "gzip");

  auto plain = web->Select("/", "");
  EXPECT_EQ(*plain->body, "plain index");
  EXPECT_EQ(plain->content_encoding, "");
  EXPECT_TRUE(plain->vary);  // a cache must not hand this to a client that accepts gzip

  auto js = web->Select("/assets/app-1.js", "br, gzip");  // no .br for it: gzip
  EXPECT_EQ(*js->body, "gz js");
  EXPECT_EQ(js->content_encoding, "gzip");
  EXPECT_EQ(js->cache_control, "public, max-age=31536000, immutable");

  auto tiny = web->Select("/assets/tiny-2.css", "br, gzip");
  EXPECT_EQ(*tiny->body, "tiny");
  EXPECT_EQ(tiny->content_encoding, "");
  EXPECT_FALSE(tiny->vary);
}

TEST_F(StaticFilesTest, CompressedFileWithoutOriginalIsAFileOfItsOwn) {
  Write("index.html", "app");
  Write("backup.tar.gz", "archive");
  auto web = Load();
  ASSERT_TRUE(web);
  auto f = web->Select("/backup.tar.gz", "gzip");
  ASSERT_TRUE(f);
  EXPECT_EQ(*f->body, "archive");
  EXPECT_EQ(f->content_encoding, "");
}

TEST(ChooseEncoding, Preferences) {
  EXPECT_EQ(ChooseEncoding("", true, true), "");
  EXPECT_EQ(ChooseEncoding("identity", true, true), "");
  EXPECT_EQ(ChooseEncoding("gzip, deflate, br, zstd", true, true), "br");
  EXPECT_EQ(ChooseEncoding("gzip, deflate, br", false, true), "gzip");
  EXPECT_EQ(ChooseEncoding("br", false, true), "");
  EXPECT_EQ(ChooseEncoding("GZIP", true, true), "gzip");
  EXPECT_EQ(ChooseEncoding("x-gzip", false, true), "gzip");
  // Weights.
  EXPECT_EQ(ChooseEncoding("br;q=0.5, gzip;q=0.8", true, true), "gzip");
  EXPECT_EQ(ChooseEncoding("br;q=0, gzip", true, true), "gzip");
  EXPECT_EQ(ChooseEncoding("br;q=0, gzip;q=0", true, true), "");
  EXPECT_EQ(ChooseEncoding("br ; q=1.0 , gzip ; q=1", true, true), "br");
  EXPECT_EQ(ChooseEncoding("gzip;q=bogus", true, true), "");
  EXPECT_EQ(ChooseEncoding("gzip;q=2", true, true), "");
  // The wildcard covers codings not named.
  EXPECT_EQ(ChooseEncoding("*", true, true), "br");
  EXPECT_EQ(ChooseEncoding("br;q=0, *", true, true), "gzip");
  EXPECT_EQ(ChooseEncoding("*;q=0", true, true), "");
  EXPECT_EQ(ChooseEncoding("gzip, *;q=0", true, true), "gzip");
  // Junk never crashes and never picks a coding the client did not ask for.
  EXPECT_EQ(ChooseEncoding(",,;;, ;q=, =", true, true), "");
}

}  // namespace
}  // namespace chatpipe
