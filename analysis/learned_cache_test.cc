#include "analysis/learned_cache.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace chatpipe::analysis {
namespace {

LabelledMessage Message(std::string text, int label) {
  LabelledMessage m;
  m.text = std::move(text);
  m.sentiment = label;
  return m;
}

// A model whose answers are known: each made-up word decides its class.
LearnedModel Trained(const char* positive, const char* negative) {
  std::vector<LabelledMessage> set;
  for (const char* frame : {"%s", "the %s", "%s it", "a %s day"}) {
    char text[64];
    std::snprintf(text, sizeof text, frame, positive);
    set.push_back(Message(text, 0));
    std::snprintf(text, sizeof text, frame, negative);
    set.push_back(Message(text, 1));
    std::snprintf(text, sizeof text, frame, "quux");
    set.push_back(Message(text, 2));
  }
  LearnedSettings settings;
  settings.bucket_bits = 10;
  LearnedModel model;
  model.Train(set, settings);
  return model;
}

class LearnedCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/learned_cache_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
};

TEST_F(LearnedCacheTest, AWrittenModelReadsBackWithTheSameAnswers) {
  const LearnedModel written = Trained("zorp", "gleb");
  const std::string key = LearnedCacheKey("digest", {});
  ASSERT_TRUE(WriteLearnedCache(dir_ + "/made/by/the/write", key, written));
  LearnedModel read;
  ASSERT_TRUE(ReadLearnedCache(dir_ + "/made/by/the/write", key, &read));
  EXPECT_EQ(read.weights(0), written.weights(0));
  EXPECT_EQ(read.weights(1), written.weights(1));
  for (const char* text : {"zorp", "gleb", "quux", "a zorp and a gleb", "nothing known"}) {
    EXPECT_EQ(read.Predict(text, {}).sentiment, written.Predict(text, {}).sentiment) << text;
    EXPECT_EQ(read.Predict(text, {}).profane, written.Predict(text, {}).profane) << text;
  }
  EXPECT_EQ(read.Predict("zorp", {}).sentiment, 0);
  EXPECT_EQ(read.Predict("gleb", {}).sentiment, 1);
}

TEST_F(LearnedCacheTest, TheKeyFollowsTheDataAndTheSettings) {
  LearnedSettings other;
  other.epochs += 1;
  const std::string key = LearnedCacheKey("digest", {});
  EXPECT_EQ(LearnedCacheKey("digest", {}), key);
  EXPECT_NE(LearnedCacheKey("digest2", {}), key);
  EXPECT_NE(LearnedCacheKey("digest", other), key);
  ASSERT_TRUE(WriteLearnedCache(dir_, key, Trained("zorp", "gleb")));
  LearnedModel read;
  EXPECT_FALSE(ReadLearnedCache(dir_, LearnedCacheKey("digest2", {}), &read));
  EXPECT_FALSE(read.trained());
}

// The key holds a fingerprint of the features the code draws from text. Its value is pinned here: a
// change to the features fails this test, whose fix is to bump kTaggerCodeVersion (analysis/tagger.h:
// the tags change) and then this value. A key that missed a change of the features once let a
// development build read weights trained on an earlier layout, and score a holdout with them.
TEST_F(LearnedCacheTest, TheKeyFollowsTheFeaturesTheCodeDraws) {
  EXPECT_EQ(LearnedFeatureFingerprint({}), 1401285954u);
  LearnedSettings smaller;
  smaller.bucket_bits = 12;  // the same text, other rows
  EXPECT_NE(LearnedFeatureFingerprint(smaller), LearnedFeatureFingerprint({}));
}

TEST_F(LearnedCacheTest, ADamagedOrTruncatedFileIsNotTrusted) {
  const std::string key = LearnedCacheKey("digest", {});
  ASSERT_TRUE(WriteLearnedCache(dir_, key, Trained("zorp", "gleb")));
  const std::string path = dir_ + "/" + key;
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(bytes.size(), 1000u);
  LearnedModel read;
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 1;  // one bit in the weights
  std::ofstream(path, std::ios::binary | std::ios::trunc) << flipped;
  EXPECT_FALSE(ReadLearnedCache(dir_, key, &read));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() - 7);
  EXPECT_FALSE(ReadLearnedCache(dir_, key, &read));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "";
  EXPECT_FALSE(ReadLearnedCache(dir_, key, &read));
  std::filesystem::resize_file(path, uintmax_t{1} << 30);  // sparse: larger than any entry, not read
  EXPECT_FALSE(ReadLearnedCache(dir_, key, &read));
  EXPECT_FALSE(read.trained());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_TRUE(ReadLearnedCache(dir_, key, &read));
}

TEST_F(LearnedCacheTest, AWriteThatCannotHappenOnlySaysSo) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ + "/a-file") << "not a directory";
  EXPECT_FALSE(WriteLearnedCache(dir_ + "/a-file", "key", Trained("zorp", "gleb")));
  EXPECT_FALSE(WriteLearnedCache("", "key", Trained("zorp", "gleb")));
  LearnedModel read;
  EXPECT_FALSE(ReadLearnedCache("", "key", &read));
  EXPECT_FALSE(ReadLearnedCache(dir_ + "/missing", "key", &read));
}

TEST_F(LearnedCacheTest, KeepsTheNewestEntriesAndDropsTheRest) {
  namespace fs = std::filesystem;
  const LearnedModel model = Trained("zorp", "gleb");
  std::vector<std::string> keys;
  const auto now = fs::file_time_type::clock::now();
  for (size_t i = 0; i < kLearnedCacheEntries; ++i) {
    keys.push_back(LearnedCacheKey("digest " + std::to_string(i), {}));
    ASSERT_TRUE(WriteLearnedCache(dir_, keys.back(), model));
    fs::last_write_time(dir_ + "/" + keys.back(), now - std::chrono::minutes(100 - i));  // 0 the oldest
  }
  std::ofstream(dir_ + "/" + keys[0] + ".tmp.1.0") << "a write that crashed";
  fs::last_write_time(dir_ + "/" + keys[0] + ".tmp.1.0", now - std::chrono::minutes(30));
  std::ofstream(dir_ + "/" + keys[0] + ".tmp.2.0") << "a write in progress";
  std::ofstream(dir_ + "/unrelated") << "not ours";
  ASSERT_TRUE(WriteLearnedCache(dir_, LearnedCacheKey("one more", {}), model));
  LearnedModel read;
  EXPECT_FALSE(ReadLearnedCache(dir_, keys[0], &read));  // the oldest went
  for (size_t i = 1; i < keys.size(); ++i) EXPECT_TRUE(ReadLearnedCache(dir_, keys[i], &read)) << i;
  EXPECT_TRUE(ReadLearnedCache(dir_, LearnedCacheKey("one more", {}), &read));
  EXPECT_FALSE(fs::exists(dir_ + "/" + keys[0] + ".tmp.1.0"));
  EXPECT_TRUE(fs::exists(dir_ + "/" + keys[0] + ".tmp.2.0"));
  EXPECT_TRUE(fs::exists(dir_ + "/unrelated"));
}

TEST_F(LearnedCacheTest, TheDirectoryComesFromTheEnvironment) {
  ::setenv("CHATPIPE_TAG_CACHE", "/some/where", 1);
  EXPECT_EQ(LearnedCacheDir(), "/some/where");
  ::setenv("CHATPIPE_TAG_CACHE", "off", 1);
  EXPECT_EQ(LearnedCacheDir(), "");
  ::unsetenv("CHATPIPE_TAG_CACHE");
  ::setenv("CHATPIPE_CACHE", "/ops/cache", 1);
  EXPECT_EQ(LearnedCacheDir(), "/ops/cache/learned");
  ::unsetenv("CHATPIPE_CACHE");
  ::setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(LearnedCacheDir(), "/home/someone/.cache/chatpipe/learned");
}

}  // namespace
}  // namespace chatpipe::analysis
