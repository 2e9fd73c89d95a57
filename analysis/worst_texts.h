// Worst texts for the tagger and the mention parser: the inputs a hostile client would send to make
// one message cost the most (long runs of '^', ':', '@', '#', combining marks, stretched letters,
// words in pieces, alternating scripts...). The step-bound test (analysis/steps_test.cc) and
// bench/tagger_bench run the same ones. Pure functions; the caller owns what they return.
#pragma once

#include <string>
#include <vector>

namespace chatpipe::analysis {

struct WorstText {
  std::string name;
  std::string text;  // `chars` characters, or a few fewer where a pattern does not divide evenly
};

// Every worst text at `chars` characters (ingress's limit is 4,000).
std::vector<WorstText> WorstTexts(size_t chars);

}  // namespace chatpipe::analysis
