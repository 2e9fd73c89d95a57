#include "common/moderation.h"

#include <gtest/gtest.h>

namespace chatpipe {
namespace {

TEST(Moderation, PolicyNamesRoundTrip) {
  for (Policy p : {Policy::kTag, Policy::kMask, Policy::kBlock}) EXPECT_EQ(ParsePolicy(PolicyName(p)), p);
  EXPECT_EQ(ParsePolicy("Mask"), std::nullopt);
  EXPECT_EQ(ParsePolicy(""), std::nullopt);
}

TEST(Moderation, EachLevelHasItsOwnPolicy) {
  const Moderation m{Policy::kTag, Policy::kBlock};
  EXPECT_EQ(m.For(false), Policy::kTag);
  EXPECT_EQ(m.For(true), Policy::kBlock);
  EXPECT_FALSE(m.Masks());
  EXPECT_TRUE((Moderation{Policy::kMask, Policy::kTag}).Masks());
  EXPECT_EQ(ModerationFromColumns("mask", "block"), (Moderation{Policy::kMask, Policy::kBlock}));
  EXPECT_EQ(ModerationFromColumns("?", "mask"), (Moderation{Policy::kTag, Policy::kMask}));
}

}  // namespace
}  // namespace chatpipe
