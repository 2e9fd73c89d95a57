// Sentiment scoring, VADER's recipe (Hutto & Gilbert, 2014) over a lexicon per language: word
// valences in [-4, 4]; negation up to four words back within a clause and not past a contrast word
// or a scope end ("no está mal", "não acho que seja bom", "not good"; "didn't call and left");
// intensifiers and dampeners before a word ("re bueno", "mó legal") or right after it ("lindo demais",
// "cute af"); contrast ("pero", "mas", "but": the later clause weighs more); ALL-CAPS and '!' emphasis;
// emoji and emoticons; idioms ("de puta madre", "la raja"). Then the labelling guide's rules
// (data/eval/labelling.md), all linear:
// - a question (a sentence ended by '?') keeps only its clear feelings (|valence| >= 2.5): "is the
//   place good?" is neutral, "why does this always break?? so annoying" is not (a sentence apart);
// - swearing does not decide the feeling: a bad word counts only when no other word of the message
//   carries one, never in a question, and is negated only right after the negation ("fucking
//   amazing", "puta que rico" positive; "conchetumare, se quemó el arroz", "qué mierda" negative).
// The sum x becomes x/sqrt(x²+15) in [-1, 1], neutral when |x/sqrt(x²+15)| < kNeutralBand. A pure
// function of its inputs.
#pragma once

#include "analysis/lexicon.h"
#include "analysis/tokens.h"

namespace chatpipe::analysis {

inline constexpr double kNeutralBand = 0.05;  // |score| below it is neutral

// The score of a tokenised message (after profanity matching, which absorbs split words) in lang;
// when the language is only a guess (ambiguous), a word's valence may come from another language.
double Sentiment(const Lexicon& lexicon, Scratch* scratch, const ScanStats& st, int lang, bool ambiguous);

}  // namespace chatpipe::analysis
