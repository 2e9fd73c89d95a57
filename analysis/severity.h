// Severity: how coarse a bad word is (analysis/data/eval/labelling.md). Mild words are those many rooms
// allow (damn, mierda, porra, weón as punctuation); strong ones are what a moderator removes first (the
// f-word family, sexual insults, slurs, threats). Ordered: a message's level is its highest word's.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace chatpipe {

enum class Severity : uint8_t { kNone = 0, kMild = 1, kStrong = 2 };

inline const char* SeverityName(Severity level) {
  switch (level) {
    case Severity::kMild: return "mild";
    case Severity::kStrong: return "strong";
    default: return "none";
  }
}

inline std::optional<Severity> ParseSeverity(std::string_view name) {
  if (name == "none") return Severity::kNone;
  if (name == "mild") return Severity::kMild;
  if (name == "strong") return Severity::kStrong;
  return std::nullopt;
}

}  // namespace chatpipe
