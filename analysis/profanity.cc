#include "analysis/profanity.h"

#include <algorithm>

#include "analysis/chars.h"
#include "analysis/normalize.h"
#include "analysis/steps.h"

namespace chatpipe::analysis {
namespace {

constexpr int kMaxJoin = 12;  // tokens glued into one candidate ("f u c k") at most

// A set of ASCII characters as a table: Linked tests every gap between two tokens.
struct CharSet {
  bool has[256] = {};
  constexpr explicit CharSet(const char* chars) {
    for (; *chars; ++chars) has[static_cast<unsigned char>(*chars)] = true;
  }
  bool operator()(char c) const { return has[static_cast<unsigned char>(c)]; }
};
constexpr CharSet kInWord(".-_!~+|*");            // one of these glues two pieces: "mier.da", "sh!t"
constexpr CharSet kSeparators(" .-_*,/|~+");  // a few of these glue single letters: "f u c k"

}  // namespace

void Profanity::Add(std::string_view form, int base) {
  const bool prefix = form.back() == '*';   // "mierd*": starts the word
  const bool suffix = form.front() == '*';  // "*shit": ends it
  const std::string folded = FoldWord(form.substr(suffix, form.size() - suffix - prefix));
  Squeezed sq;
  Squeeze(folded, false, &sq);
  if (prefix || suffix) {
    // "*fuck*" may sit anywhere; "mierd*" must start the word; "*shit" must end it.
    affixes_.push_back({std::string(sq.view()), prefix && !suffix, suffix && !prefix, {base, -1}});
    return;
  }
  const int key = keys_.Add(sq.view());
  if (key == static_cast<int>(by_key_.size())) by_key_.emplace_back();
  by_key_[key].push_back(static_cast<int>(forms_.size()));
  if (folded.size() <= kMaxBadLength) by_size_[folded.size()].push_back(static_cast<int>(forms_.size()));
  forms_.push_back({folded, std::string(reinterpret_cast<const char*>(sq.runs), sq.size), {base, -1}});
}

Status Profanity::Load(LexiconReader& reader) {
  for (int lang = 0; lang < kLangs; ++lang) {
    Status st = reader.ForEachLine(std::string("profanity_") + kLangCodes[lang] + ".txt", [&](const Fields& f) {
      const int base = bases_.Add(FoldWord(f[0]));
      for (std::string_view form : f) Add(form, base);
      return Status::Ok();
    });
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

void Profanity::Link(Lexicon* lexicon) {
  // A bad word reads in sentiment as the form it matched, else as its base term.
  for (Form& f : forms_) {
    f.match.word = lexicon->Find(f.folded);
    if (f.match.word < 0) f.match.word = lexicon->Find(bases_.Key(f.match.base));
  }
  for (Affix& a : affixes_) a.match.word = lexicon->Find(bases_.Key(a.match.base));
  // Precomputed: whether each known word is a bad one, so that most tokens need no matching.
  for (int id = 0; id < lexicon->size(); ++id) lexicon->info(id).bad = MatchWord(lexicon->Word(id)).base;
}

Profanity::Match Profanity::MatchWord(std::string_view candidate) const {
  CHATPIPE_STEPS(2 * candidate.size());  // looking for '*' and '1'
  if (candidate.find('*') != std::string_view::npos) return MatchWild(candidate);
  Squeezed sq;
  for (bool one_is_l : {false, true}) {
    if (one_is_l && candidate.find('1') == std::string_view::npos) break;
    if (!Squeeze(candidate, one_is_l, &sq)) return {};
    const std::string_view w = sq.view();
    if (const int key = keys_.Find(w); key >= 0) {
      for (int index : by_key_[key]) {
        const Form& form = forms_[index];
        CHATPIPE_STEPS(form.runs.size());
        size_t k = 0;
        while (k < form.runs.size() && sq.runs[k] >= static_cast<uint8_t>(form.runs[k])) ++k;
        if (k == form.runs.size()) return form.match;
      }
    }
    for (const Affix& a : affixes_) {
      CHATPIPE_STEPS(w.size() + a.core.size());
      if (a.prefix ? w.starts_with(a.core) : a.suffix ? w.ends_with(a.core) : w.find(a.core) != std::string_view::npos)
        return a.match;
    }
  }
  return {};
}

// A self-censored word ("f*ck", "s**t", "a**hole"): each '*' stands for one letter. At least two
// real letters are needed, so that masked output ("m*****") is never flagged again.
Profanity::Match Profanity::MatchWild(std::string_view candidate) const {
  CHATPIPE_STEPS(candidate.size());
  const size_t stars = std::count(candidate.begin(), candidate.end(), '*');
  if (candidate.size() - stars < 2 || candidate.size() > kMaxBadLength) return {};
  for (int index : by_size_[candidate.size()]) {
    const Form& form = forms_[index];
    const std::string& f = form.folded;
    CHATPIPE_STEPS(f.size());
    size_t k = 0;
    while (k < f.size() && (candidate[k] == '*' || Unleet(candidate[k], false) == f[k])) ++k;
    if (k == f.size()) return form.match;
  }
  return {};
}

// Whether tokens a and a+1 may be one word split up: glued by one in-word separator ("mier.da",
// "sh!t", "f*ck", "f**k") or, for single characters, by a little space or punctuation ("f u c k").
bool Profanity::Linked(std::string_view text, const Scratch& s, size_t a) const {
  const Token& x = s.tokens[a];
  const Token& y = s.tokens[a + 1];
  if (x.is_emoji || y.is_emoji || x.bad >= 0 || y.bad >= 0) return false;
  const std::string_view gap = text.substr(x.end, y.begin - x.end);
  CHATPIPE_STEPS(1);
  if (gap.empty() || gap.size() > 4) return false;
  if (gap.size() == 1 && kInWord(gap[0])) return true;
  bool stars = true, separators = true;
  for (char c : gap) {
    stars &= c == '*';
    separators &= kSeparators(c);
  }
  if (stars) return true;
  const bool singles = x.fold_end - x.fold_begin == 1 && y.fold_end - y.fold_begin == 1;
  return singles && gap.size() <= 3 && separators;
}

void Profanity::FindBadWords(const Lexicon& lexicon, std::string_view text, Scratch* s) const {
  std::vector<Token>& tokens = s->tokens;
  for (Token& t : tokens) {
    CHATPIPE_STEPS(1);
    if (t.is_emoji) continue;
    if (t.exact) {
      const WordInfo& w = lexicon.info(t.word);
      if (w.allow != kEveryLanguage) t.bad = w.bad;
    } else if (const Match m = MatchWord(s->Folded(t)); m.base >= 0) {
      t.bad = m.base;
      t.word = m.word;
    }
  }
  // Then words in pieces, longest join first. The pieces linked to the next are found once (chain is
  // the last token of the run of linked tokens from a), and each join is a prefix of the longest one,
  // which is built once: a token is read a bounded number of times (kMaxJoin) however the text is cut.
  size_t chain = 0;
  std::string& join = s->join;
  size_t ends[kMaxJoin];  // join's size after each of its tokens
  for (size_t a = 0; a + 1 < tokens.size(); ++a) {
    CHATPIPE_STEPS(1);
    chain = std::max(chain, a);
    while (chain + 1 < tokens.size() && chain - a + 1 < kMaxJoin && Linked(text, *s, chain)) ++chain;
    if (chain == a) continue;
    join.clear();
    for (size_t k = a; k <= chain; ++k) {
      if (k > a) {
        const std::string_view gap = text.substr(tokens[k - 1].end, tokens[k].begin - tokens[k - 1].end);
        if (gap[0] == '*') join.append(gap);       // each star a hidden letter
        else if (gap == "!") join.push_back('!');  // "sh!t"
      }
      join.append(s->Folded(tokens[k]));
      ends[k - a] = join.size();
    }
    CHATPIPE_STEPS(join.size());
    for (size_t last = chain; last > a; --last) {
      const std::string_view candidate(join.data(), ends[last - a]);
      if (candidate.size() < 3) continue;
      const Match m = MatchWord(candidate);
      if (m.base < 0) continue;
      tokens[a].bad = m.base;
      tokens[a].word = m.word;
      tokens[a].exact = false;
      for (size_t k = a + 1; k <= last; ++k) tokens[k].absorbed = true;
      a = last;
      break;
    }
  }
}

void Profanity::Allow(const Lexicon& lexicon, int lang, Scratch* s) const {
  CHATPIPE_STEPS(s->tokens.size());
  for (Token& t : s->tokens)
    if (t.bad >= 0 && t.exact && (lexicon.info(t.word).allow >> lang & 1)) t.bad = -1;
}

}  // namespace chatpipe::analysis
