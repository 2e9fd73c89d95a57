#include "ingress/connection_counter.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

TEST(ConnectionCounterTest, RefusesPastTheLimitPerAddressAndTakesMoreOnceOneCloses) {
  ConnectionCounter c(0, 2);
  EXPECT_TRUE(c.Admit("192.0.2.1"));
  EXPECT_TRUE(c.Admit("192.0.2.1"));
  EXPECT_FALSE(c.Admit("192.0.2.1"));
  EXPECT_TRUE(c.Admit("192.0.2.2")) << "another address has its own count";
  EXPECT_EQ(c.total(), 3);
  c.Release("192.0.2.1");
  EXPECT_TRUE(c.Admit("192.0.2.1"));
  EXPECT_FALSE(c.Admit("192.0.2.1"));
}

TEST(ConnectionCounterTest, RefusesPastTheTotalWhateverTheAddress) {
  ConnectionCounter c(3, 0);
  EXPECT_TRUE(c.Admit("192.0.2.1"));
  EXPECT_TRUE(c.Admit("192.0.2.2"));
  EXPECT_TRUE(c.Admit("192.0.2.3"));
  EXPECT_FALSE(c.Admit("192.0.2.4"));
  c.Release("192.0.2.2");
  EXPECT_TRUE(c.Admit("192.0.2.4"));
  EXPECT_EQ(c.total(), 3);
}

TEST(ConnectionCounterTest, ARefusalCountsNothing) {
  ConnectionCounter c(1, 0);
  EXPECT_TRUE(c.Admit("192.0.2.1"));
  EXPECT_FALSE(c.Admit("192.0.2.2"));
  c.Release("192.0.2.1");
  EXPECT_EQ(c.total(), 0);
  EXPECT_TRUE(c.Admit("192.0.2.2"));
}

TEST(ConnectionCounterTest, AProxysConnectionsCountInTheTotalAndItsClientsEachAgainstTheirOwnCap) {
  ConnectionCounter c(4, 1);
  EXPECT_TRUE(c.Admit(""));
  EXPECT_TRUE(c.Admit("")) << "the proxy has no per-address cap";
  EXPECT_TRUE(c.AdmitClient("203.0.113.1"));
  EXPECT_FALSE(c.AdmitClient("203.0.113.1")) << "its client has";
  EXPECT_TRUE(c.AdmitClient("203.0.113.2"));
  EXPECT_FALSE(c.Admit("203.0.113.1")) << "one client's place, whichever way it came";
  EXPECT_EQ(c.total(), 2) << "clients are not connections";
  c.ReleaseClient("203.0.113.1");
  EXPECT_TRUE(c.Admit("203.0.113.1"));
  EXPECT_TRUE(c.Admit(""));
  EXPECT_FALSE(c.Admit("")) << "the total holds for the proxy too";
  c.Release("");
  EXPECT_EQ(c.total(), 3);
}

}  // namespace
}  // namespace chatpipe
