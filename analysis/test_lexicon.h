// For analysis' unit tests: the real word lists (DefaultTagDataDir) loaded once, as Tagger::Load loads
// them, and a message tokenised and matched the way Tagger::Analyze does up to each step.
#pragma once

#include <string_view>

#include "analysis/lexicon.h"
#include "analysis/profanity.h"
#include "analysis/tokens.h"

namespace chatpipe::analysis::testing {

struct Loaded {
  Lexicon lexicon;
  Profanity profanity;
};

// Loaded on first use, kept for the test binary's life.
const Loaded& Lists();

// text scanned into s (profanity matched and allowed too when `profanity`), with its stats.
ScanStats Tokenise(std::string_view text, Scratch* s, bool profanity = true);

}  // namespace chatpipe::analysis::testing
