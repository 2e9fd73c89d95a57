#include "ingress/connection_counter.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

TEST(ConnectionCounterTest, RefusesPastTheLimitPerAddressAndTakesMoreOnceOneCloses) {
  ConnectionCounter c(0, 2);
  EXPECT_TRUE(c.Admit(1));
  EXPECT_TRUE(c.Admit(1));
  EXPECT_FALSE(c.Admit(1));
  EXPECT_TRUE(c.Admit(2)) << "another address has its own count";
  EXPECT_EQ(c.total(), 3);
  c.Release(1);
  EXPECT_TRUE(c.Admit(1));
  EXPECT_FALSE(c.Admit(1));
}

TEST(ConnectionCounterTest, RefusesPastTheTotalWhateverTheAddress) {
  ConnectionCounter c(3, 0);
  EXPECT_TRUE(c.Admit(1));
  EXPECT_TRUE(c.Admit(2));
  EXPECT_TRUE(c.Admit(3));
  EXPECT_FALSE(c.Admit(4));
  c.Release(2);
  EXPECT_TRUE(c.Admit(4));
  EXPECT_EQ(c.total(), 3);
}

TEST(ConnectionCounterTest, ARefusalCountsNothing) {
  ConnectionCounter c(1, 0);
  EXPECT_TRUE(c.Admit(1));
  EXPECT_FALSE(c.Admit(2));
  c.Release(1);
  EXPECT_EQ(c.total(), 0);
  EXPECT_TRUE(c.Admit(2));
}

}  // namespace
}  // namespace chatpipe
