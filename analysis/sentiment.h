// Sentiment scoring, VADER's recipe (Hutto & Gilbert, 2014) over a lexicon per language: word
// valences in [-4, 4]; negation up to three words back within a clause ("no está mal", "não gostei",
// "not good"); intensifiers and dampeners; contrast ("pero", "mas", "but": the later clause weighs
// more); ALL-CAPS and '!' emphasis; emoji and emoticons; idioms ("de puta madre"). The sum x becomes
// x/sqrt(x²+15) in [-1, 1]. A pure function of its inputs.
#pragma once

#include "analysis/lexicon.h"
#include "analysis/tokens.h"

namespace chatpipe::analysis {

inline constexpr double kNeutralBand = 0.05;  // |score| below it is neutral

// The score of a tokenised message (after profanity matching, which absorbs split words) in lang;
// when the language is only a guess (ambiguous), a word's valence may come from another language.
double Sentiment(const Lexicon& lexicon, Scratch* scratch, const ScanStats& st, int lang, bool ambiguous);

}  // namespace chatpipe::analysis
