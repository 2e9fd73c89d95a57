#include "analysis/language.h"

#include <algorithm>

#include "analysis/lexicon.h"
#include "analysis/steps.h"
#include "analysis/tokens.h"

namespace chatpipe::analysis {

int DetectLanguage(const Lexicon& lexicon, const std::vector<Token>& tokens, const double hints[kLangs],
                   bool* ambiguous) {
  double score[kLangs];
  std::copy(hints, hints + kLangs, score);
  CHATPIPE_STEPS(tokens.size());
  for (const Token& t : tokens) {
    if (t.word < 0 || t.absorbed) continue;
    const WordInfo& w = lexicon.info(t.word);
    for (int l = 0; l < kLangs; ++l) {
      if (w.stop >> l & 1) score[l] += 1;
      else if ((w.has_valence >> l & 1) && w.has_valence != kEveryLanguage) score[l] += 0.5;
    }
  }
  int best = kEn;
  for (int l : {kPt, kEs})
    if (score[l] >= score[best] && score[l] > 0) best = l;
  int ties = 0;
  for (int l = 0; l < kLangs; ++l) ties += score[l] == score[best];
  *ambiguous = ties > 1;
  return best;
}

}  // namespace chatpipe::analysis
