#include "common/moderation.h"

namespace chatpipe {

const char* PolicyName(Policy policy) {
  switch (policy) {
    case Policy::kMask: return "mask";
    case Policy::kBlock: return "block";
    default: return "tag";
  }
}

std::optional<Policy> ParsePolicy(std::string_view name) {
  if (name == "tag") return Policy::kTag;
  if (name == "mask") return Policy::kMask;
  if (name == "block") return Policy::kBlock;
  return std::nullopt;
}

Moderation ModerationFromColumns(std::string_view mild, std::string_view strong) {
  return {ParsePolicy(mild).value_or(Policy::kTag), ParsePolicy(strong).value_or(Policy::kTag)};
}


}  // namespace chatpipe
