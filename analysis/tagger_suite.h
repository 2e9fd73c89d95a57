// TaggerSuite: a GoogleTest fixture whose suite shares one Tagger loaded from the default word lists
// (tests only). The suite owns it, from its first test to its last.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "analysis/tagger.h"

namespace chatpipe {

class TaggerSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto loaded = Tagger::Load(DefaultTagDataDir());
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    tagger_ = std::move(loaded.value());
  }
  static void TearDownTestSuite() { tagger_.reset(); }

  inline static std::unique_ptr<Tagger> tagger_;
};

}  // namespace chatpipe
