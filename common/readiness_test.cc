#include "common/readiness.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

TEST(ReadinessTest, ReadyWhenEveryCheckIsOk) {
  ReadinessAnswer a = Readiness("3-77", false, {{"kafka", "ok"}, {"postgres", "ok"}, {"redis", "ok"}});
  EXPECT_TRUE(a.ready);
  EXPECT_EQ(a.json,
            R"({"ready":true,"status":"ok","instance":"3-77","checks":{"kafka":"ok","postgres":"ok","redis":"ok"}})");
}

TEST(ReadinessTest, OneCheckDownMakesItNotReadyAndSaysWhy) {
  ReadinessAnswer a = Readiness("w", false, {{"kafka", "ok"}, {"redis", "connection refused \"127.0.0.1\""}});
  EXPECT_FALSE(a.ready);
  EXPECT_EQ(a.json, R"({"ready":false,"status":"not_ready","instance":"w","checks":)"
                    R"({"kafka":"ok","redis":"connection refused \"127.0.0.1\""}})");
}

TEST(ReadinessTest, DrainingIsNeverReadyAndSaysSoOverFailedChecks) {
  for (const char* redis : {"ok", "down"}) {
    ReadinessAnswer a = Readiness("i", true, {{"redis", redis}});
    EXPECT_FALSE(a.ready);
    EXPECT_NE(a.json.find(R"("status":"draining")"), std::string::npos) << a.json;
  }
}

TEST(ReadinessTest, NoChecksIsReady) {
  ReadinessAnswer a = Readiness("i", false, {});
  EXPECT_TRUE(a.ready);
  EXPECT_EQ(a.json, R"({"ready":true,"status":"ok","instance":"i","checks":{}})");
}

TEST(ReadinessTest, LivenessNamesTheInstance) {
  EXPECT_EQ(LivenessJson("persist-12"), R"({"live":true,"instance":"persist-12"})");
}

}  // namespace
}  // namespace chatpipe
