#include "storage/local_object_store.h"

#include <gtest/gtest.h>
#include <filesystem>

namespace chatpipe {
namespace {

class LocalObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/objects-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST(ObjectKeyTest, IsTheHexSha256OfTheBytes) {
  // The SHA-256 of "abc" (FIPS 180-2, appendix B.1).
  EXPECT_EQ(ObjectKey("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(IsObjectKey(ObjectKey("")));
  EXPECT_FALSE(IsObjectKey("../etc/passwd"));
  EXPECT_FALSE(IsObjectKey(std::string(64, 'A')));  // upper case is not a key: one spelling per object
  EXPECT_FALSE(IsObjectKey(std::string(63, 'a')));
  EXPECT_EQ(ObjectPath(7, "ab"), "/api/rooms/7/objects/ab");
}

TEST_F(LocalObjectStoreTest, StoresReadsAndReadsRanges) {
  LocalObjectStore store(dir_ + "/nested");
  ASSERT_TRUE(store.Open().ok());
  std::string bytes = "0123456789";
  std::string key = ObjectKey(bytes);
  ASSERT_TRUE(store.Put(key, bytes, "text/plain").ok());
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/nested/" + key.substr(0, 2) + "/" + key.substr(2, 2) + "/" + key));

  auto all = store.Get(key, std::nullopt);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(*all, bytes);
  auto middle = store.Get(key, ByteRange{2, 4});
  ASSERT_TRUE(middle.ok());
  EXPECT_EQ(*middle, "234");
  auto tail = store.Get(key, ByteRange{8, 100});  // clamped to the end
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(*tail, "89");
}

TEST_F(LocalObjectStoreTest, PutOfAStoredKeyWritesNothingAndLeavesNoTemporaries) {
  LocalObjectStore store(dir_);
  ASSERT_TRUE(store.Open().ok());
  std::string key = ObjectKey("same");
  ASSERT_TRUE(store.Put(key, "same", "").ok());
  std::string path = dir_ + "/" + key.substr(0, 2) + "/" + key.substr(2, 2);
  auto before = std::filesystem::last_write_time(path + "/" + key);
  ASSERT_TRUE(store.Put(key, "same", "").ok());
  EXPECT_EQ(std::filesystem::last_write_time(path + "/" + key), before);
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(path)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST_F(LocalObjectStoreTest, MissingObjectsAndBadKeysAreRefused) {
  LocalObjectStore store(dir_);
  ASSERT_TRUE(store.Open().ok());
  auto missing = store.Get(ObjectKey("never stored"), std::nullopt);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().name(), "object_not_found");
  EXPECT_EQ(store.Get("../../etc/passwd", std::nullopt).status().name(), "bad_key");
  EXPECT_EQ(store.Put("x/../y", "b", "").name(), "bad_key");
}

}  // namespace
}  // namespace chatpipe
