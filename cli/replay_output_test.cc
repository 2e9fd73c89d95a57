#include "cli/replay_output.h"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "tests/support/services.h"

namespace chatpipe {
namespace {

// A writer over a file that a previous replay left (20 bytes).
class RecordWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = test::TempDir::Create("record-writer");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
    path = dir_->path() + "/out";
    { std::ofstream(path) << "the previous replay\n"; }
    auto w = RecordWriter::Open(path);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    writer = std::move(*w);
  }

  std::string path;
  std::unique_ptr<RecordWriter> writer;

 private:
  std::unique_ptr<test::TempDir> dir_;
};

TEST_F(RecordWriterTest, WritesOnlyWholeRecordsAndAllOfThemOnFinish) {
  const std::string record(1000, 'x');
  size_t flushed_at = 0;
  for (int i = 0; i < 2000; ++i) {
    writer->buffer() += record + "\n";
    ASSERT_TRUE(writer->Written().ok());
    if (!flushed_at && writer->bytes() > 0) flushed_at = static_cast<size_t>(i) + 1;
  }
  ASSERT_GT(flushed_at, 0u);  // it wrote on its own before Finish, in whole records
  EXPECT_EQ(static_cast<size_t>(writer->bytes()), flushed_at * (record.size() + 1));
  EXPECT_EQ(std::filesystem::file_size(path), 20u) << "the previous file stays until the replay is done";
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(std::filesystem::file_size(path), 2000 * (record.size() + 1));
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
}

// A write that fails (here past RLIMIT_FSIZE, as a full disk would) is not tried again: what was
// written stays once, Finish says why, and the previous file is left as it was.
TEST_F(RecordWriterTest, AFailedWriteIsNeverRepeatedAndLeavesThePreviousFile) {
  constexpr rlim_t kLimit = 1500000;
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &before), 0);
  std::signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG instead of ending the process
  rlimit small = before;
  small.rlim_cur = kLimit;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  Status failed;
  const std::string record(999, 'y');
  for (int i = 0; i < 3000 && failed.ok(); ++i) {
    writer->buffer() += record + "\n";
    failed = writer->Written();
  }
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &before), 0);
  std::signal(SIGXFSZ, SIG_DFL);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.name(), "write_failed");
  const auto written = std::filesystem::file_size(path + ".partial");
  EXPECT_LE(written, kLimit);
  Status finished = writer->Finish();
  EXPECT_EQ(finished.name(), "write_failed") << "the same failure, not a second try";
  EXPECT_EQ(std::filesystem::file_size(path + ".partial"), written) << "nothing written twice";
  EXPECT_EQ(std::filesystem::file_size(path), 20u) << "the previous file is left as it was";
}

TEST(RecordWriter, SaysWhyAFileCannotBeOpened) {
  auto w = RecordWriter::Open("/nonexistent-dir/out");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().ToString().find("/nonexistent-dir/out"), std::string::npos);
}

}  // namespace
}  // namespace chatpipe
