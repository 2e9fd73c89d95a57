#include "common/password.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <functional>

namespace chatpipe {
namespace {

double FastestOfThreeMs(const std::function<void()>& f) {
  double best = 1e9;
  for (int i = 0; i < 3; ++i) {
    auto start = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

TEST(PasswordTest, AHashChecksItsPasswordOnly) {
  ASSERT_GE(sodium_init(), 0);
  auto hash = HashPassword("correct horse");
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horsE"));
  EXPECT_FALSE(VerifyPassword(std::nullopt, "correct horse"));
  EXPECT_FALSE(VerifyPassword(std::nullopt, ""));
}

// No user, no hash: the check runs the same argon2id all the same. Not equal to the microsecond on a
// shared machine, so the bound is loose; what it catches is an early return (microseconds against tens
// of milliseconds).
TEST(PasswordTest, AnUnknownNameTakesAsLongAsAWrongPassword) {
  ASSERT_GE(sodium_init(), 0);
  auto hash = HashPassword("correct horse");
  ASSERT_TRUE(hash.ok());
  VerifyPassword(std::nullopt, "warm up: the dummy hash is made on first use");
  double wrong = FastestOfThreeMs([&] { VerifyPassword(*hash, "wrong"); });
  double unknown = FastestOfThreeMs([&] { VerifyPassword(std::nullopt, "wrong"); });
  EXPECT_GT(unknown, wrong / 3) << "unknown " << unknown << " ms, wrong " << wrong << " ms";
  EXPECT_LT(unknown, wrong * 3) << "unknown " << unknown << " ms, wrong " << wrong << " ms";
}

}  // namespace
}  // namespace chatpipe
