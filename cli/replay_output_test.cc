#include "cli/replay_output.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/services.h"

namespace chatpipe {
namespace {

TEST(RecordWriter, WritesOnlyWholeRecordsAndAllOfThemOnClose) {
  auto dir = test::TempDir::Create("record-writer");
  ASSERT_TRUE(dir.ok());
  const std::string path = (*dir)->path() + "/out";
  auto w = RecordWriter::Open(path);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  const std::string record(1000, 'x');
  size_t flushed_at = 0;
  for (int i = 0; i < 2000; ++i) {
    (*w)->buffer() += record + "\n";
    ASSERT_TRUE((*w)->Written().ok());
    if (!flushed_at && (*w)->bytes() > 0) flushed_at = static_cast<size_t>(i) + 1;
  }
  ASSERT_GT(flushed_at, 0u);  // it wrote on its own before Close, in whole records
  EXPECT_EQ(static_cast<size_t>((*w)->bytes()), flushed_at * (record.size() + 1));
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_EQ(std::filesystem::file_size(path), 2000 * (record.size() + 1));
}

TEST(RecordWriter, SaysWhyAFileCannotBeOpened) {
  auto w = RecordWriter::Open("/nonexistent-dir/out");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().ToString().find("/nonexistent-dir/out"), std::string::npos);
}

}  // namespace
}  // namespace chatpipe
