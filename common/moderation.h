// Moderation: a room's policy for profanity, one per level of bad word (analysis/severity.h). tag shows
// every message and marks it; mask replaces the words of that level before Kafka, so no client (nor the
// history) ever holds them; block refuses the message with 422 "blocked". A room may let mild words
// ("damn", "weón") through and mask or block strong ones.
//
// In PostgreSQL: rooms.moderation_mild and rooms.moderation_strong (013_moderation_levels.sql). In JSON:
// {"mild":"tag","strong":"mask"}; a room is created with that object, or with one policy name for both.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace chatpipe {

enum class Policy : uint8_t { kTag, kMask, kBlock };

const char* PolicyName(Policy policy);  // "tag", "mask", "block"
std::optional<Policy> ParsePolicy(std::string_view name);

struct Moderation {
  Policy mild = Policy::kTag;
  Policy strong = Policy::kTag;

  Policy For(bool strong_word) const { return strong_word ? strong : mild; }
  bool Masks() const { return mild == Policy::kMask || strong == Policy::kMask; }
  bool operator==(const Moderation&) const = default;
};

// From PostgreSQL's two columns, whose CHECK admits only the policies' names (anything else reads as tag).
Moderation ModerationFromColumns(std::string_view mild, std::string_view strong);

}  // namespace chatpipe
