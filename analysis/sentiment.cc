#include "analysis/sentiment.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "analysis/steps.h"

namespace chatpipe::analysis {
namespace {

// VADER's constants, kept so that scores read like VADER's.
constexpr double kNegationScalar = -0.74;  // "not good" is milder than "bad"
constexpr double kCapsBoost = 0.733;
constexpr double kExclaimBoost = 0.292;
constexpr int kMaxExclaims = 4;
constexpr double kAlpha = 15;  // score = x / sqrt(x² + alpha)
constexpr int kWindow = 3;     // words looked back for boosters
// Words looked back for a negation: one more than VADER, for "no creo que sea bueno", "não acho que
// seja bom"; a contrast word ("no fui pero estuvo bueno") stops it.
constexpr int kNegationWindow = 4;
constexpr double kWindowDecay[kWindow] = {1.0, 0.95, 0.9};
constexpr double kBeforeContrast = 0.5;
constexpr double kAfterContrast = 1.5;
// A question asks: its words count only when they carry a clear feeling ("is the place good?" is
// neutral, "isn't this the best pizza ever?" is not).
constexpr double kQuestionKeeps = 2.5;

double Sign(double x) { return x < 0 ? -1 : 1; }

bool Valence(const Lexicon& lexicon, int word, int lang, bool ambiguous, float* v) {
  const WordInfo& w = lexicon.info(word);
  for (int l : {lang, int{kEn}, int{kEs}, int{kPt}}) {
    if (w.has_valence >> l & 1) {
      *v = w.valence[l];
      return true;
    }
    if (!ambiguous) break;
  }
  return false;
}

// The token after `at` that is not a later piece of a bad word, or s.tokens.size().
size_t NextWord(const Scratch& s, size_t at) {
  size_t k = at + 1;
  while (k < s.tokens.size() && s.tokens[k].absorbed) {
    CHATPIPE_STEPS(1);
    ++k;
  }
  return k;
}

// Whether token k may continue an idiom: a word in the same clause.
bool Continues(const Scratch& s, size_t k) {
  return k < s.tokens.size() && !s.tokens[k].clause_start && !s.tokens[k].is_emoji;
}

// An idiom of `lang` starting at token `at` ("de puta madre"): its valence and last token. Every idiom
// has two words at least, and common words start many ("qué", "que", "is"): the second word is found
// once, and the pair of them in the lexicon's filter rules out nearly every token before its idioms are
// read.
bool MatchPhrase(const Lexicon& lexicon, const Scratch& s, size_t at, int lang, float* v, size_t* last) {
  const size_t second = NextWord(s, at);
  if (!Continues(s, second) || !lexicon.MayStartPhrase(s.tokens[at].word, s.tokens[second].word)) return false;
  const auto [first, end] = lexicon.PhrasesFrom(s.tokens[at].word);
  for (auto it = first; it != end; ++it) {
    const Phrase& p = *it;
    CHATPIPE_STEPS(1);
    if (p.lang != lang || p.words[1] != s.tokens[second].word) continue;
    size_t k = second;
    size_t matched = 2;
    while (matched < p.words.size()) {
      k = NextWord(s, k);
      CHATPIPE_STEPS(1);
      if (!Continues(s, k) || s.tokens[k].word != p.words[matched]) break;
      ++matched;
    }
    if (matched == p.words.size()) {
      *v = p.valence;
      *last = k;
      return true;
    }
  }
  return false;
}

// VADER's adjustments to the valence v of token `at`: ALL-CAPS, boosters among the three words before
// it and negations among the four before it, in the same clause and after any contrast word. Swearing
// is negated only right after the negation ("not shit at all"; "nada a ver essa porra" is no praise).
double Modify(const Lexicon& lexicon, double v, const Scratch& s, size_t at, int lang, bool has_lower) {
  if (v == 0) return 0;
  if (s.tokens[at].caps && has_lower) v += Sign(v) * kCapsBoost;
  bool negated = false;
  size_t k = at;
  for (int step = 0; step < kNegationWindow; ++step) {
    if (s.tokens[k].clause_start) break;
    do {
      CHATPIPE_STEPS(1);
      if (k == 0) return negated ? v * kNegationScalar : v;
      --k;
    } while (s.tokens[k].absorbed);
    const Token& t = s.tokens[k];
    if (t.is_emoji) break;
    const int word = t.word;
    if (word < 0) continue;
    const WordInfo& w = lexicon.info(word);
    if (w.contrast >> lang & 1) break;
    if (w.scope_end >> lang & 1) return negated ? v * kNegationScalar : v;
    if (w.boost[lang] != 0 && step < kWindow) {
      double b = w.boost[lang] * kWindowDecay[step];
      if (t.caps && has_lower) b += Sign(b) * kCapsBoost;
      v += Sign(v) * b;
    }
    negated |= (w.negation >> lang & 1) && (step == 0 || s.tokens[at].bad < 0);
  }
  return negated ? v * kNegationScalar : v;
}

// Whether token `at` is a booster with a valence of its own ("bien", "demais") right before a word
// with a valence in lang, in the same clause: then it only boosts that word ("bien feo" is no praise).
bool BoostsNext(const Lexicon& lexicon, const Scratch& s, size_t at, int lang) {
  if (lexicon.info(s.tokens[at].word).boost[lang] == 0 || at + 1 >= s.tokens.size()) return false;
  const Token& next = s.tokens[at + 1];
  return !next.clause_start && !next.is_emoji && !next.absorbed && next.word >= 0 &&
         (lexicon.info(next.word).has_valence >> lang & 1);
}

// Whether an item counts at all. Swearing does not decide the feeling ("fucking amazing", "puta que
// rico", "oye weón, ¿a qué hora llegas?"): a bad word counts only in a message whose other words carry
// no feeling ("conchetumare, se quemó el arroz"), and never in a question. In a question, only a clear
// feeling counts (kQuestionKeeps).
bool Counts(const SentimentItem& item, bool feeling_besides_swearing) {
  if (item.question) return !item.swear && std::fabs(item.v) >= kQuestionKeeps;
  return !item.swear || !feeling_besides_swearing;
}

// The items' sum, the later clause of a contrast weighing more, with '!' emphasis, into [-1, 1].
// Two passes over the items: linear.
double Combine(const std::vector<SentimentItem>& items, size_t contrast, int exclaims) {
  // Some word that is no swearing counts; an idiom of no feeling ("where the hell", "bom dia") does too,
  // so that the swearing it holds or sits beside is read as no feeling either.
  bool feeling = false;
  for (const SentimentItem& item : items) feeling |= !item.swear && Counts(item, true);
  double sum = 0;
  CHATPIPE_STEPS(2 * items.size());
  for (size_t k = 0; k < items.size(); ++k) {
    if (!Counts(items[k], feeling)) continue;
    sum += items[k].v * (contrast == SIZE_MAX ? 1 : k < contrast ? kBeforeContrast : kAfterContrast);
  }
  if (sum != 0) sum += Sign(sum) * std::min(exclaims, kMaxExclaims) * kExclaimBoost;
  return sum / std::sqrt(sum * sum + kAlpha);
}

}  // namespace

double Sentiment(const Lexicon& lexicon, Scratch* scratch, const ScanStats& st, int lang, bool ambiguous) {
  const Scratch& s = *scratch;
  std::vector<SentimentItem>& items = scratch->items;
  items.clear();
  size_t contrast = SIZE_MAX;  // items from here on come after the last "but"
  size_t item_end = SIZE_MAX;  // the last token of the word or idiom that gave the last item
  for (size_t i = 0; i < s.tokens.size(); ++i) {
    CHATPIPE_STEPS(1);
    const Token& t = s.tokens[i];
    if (t.absorbed) continue;
    if (t.is_emoji) {
      items.push_back({t.emoji, t.question, false});
      continue;
    }
    const int word = t.word;
    if (word < 0) continue;
    const WordInfo& w = lexicon.info(word);
    if (w.contrast >> lang & 1) {
      contrast = items.size();
      continue;
    }
    float v;
    size_t last = i;
    if ((w.phrase >> lang & 1) && MatchPhrase(lexicon, s, i, lang, &v, &last)) {
      // An idiom is said on purpose, even one that starts with a bad word ("fuck you", "fuck yeah").
      items.push_back({Modify(lexicon, v, s, i, lang, st.has_lower), t.question, false});
      item_end = last;
      i = last;
    } else if (w.boost[lang] != 0 && i > 0 && item_end == i - 1 && !t.clause_start) {
      // After the word it qualifies ("lindo demais", "gostei muito", "cute af"): boosts it.
      items.back().v += Sign(items.back().v) * w.boost[lang];
    } else if (Valence(lexicon, word, lang, ambiguous, &v) && !BoostsNext(lexicon, s, i, lang)) {
      items.push_back({Modify(lexicon, v, s, i, lang, st.has_lower), t.question, t.bad >= 0});
      item_end = i;
    }
  }
  return Combine(items, contrast, st.exclaims);
}

}  // namespace chatpipe::analysis
