#include "analysis/profanity.h"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "analysis/chars.h"
#include "analysis/normalize.h"
#include "analysis/steps.h"

namespace chatpipe::analysis {
namespace {

// Whether s holds a byte of a multibyte UTF-8 character: an accent, in a name or a token.
bool HasNonAscii(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// The code points of text[begin, end) in lower case, accents kept: ASCII's and Latin-1's capitals
// (À to Þ, but ×) are their small letters less 0x20; the rest is kept as it is.
std::u32string LowerSpelling(std::string_view text, size_t begin, size_t end) {
  std::u32string out;
  for (size_t i = begin; i < end;) {
    const Char c = Decode(text, i);
    i += c.len;
    const char32_t cp = c.cp;
    out += (cp >= 'A' && cp <= 'Z') || (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) ? cp + 0x20 : cp;
  }
  return out;
}

constexpr size_t kMaxJoin = 12;  // tokens glued into one candidate ("f u c k") at most

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

// An English contraction whose apostrophe the scanner dropped: "he'll" reads "hell", "she'll" "shell".
// Only endings no bad word is spelled with: "fuck's sake" stays bad.
bool IsContraction(std::string_view word) {
  CHATPIPE_STEPS(1);
  if (word.size() < 4) return false;
  char end[3] = {static_cast<char>(word[word.size() - 2] | 0x20), static_cast<char>(word[word.size() - 1] | 0x20), 0};
  const std::string_view ending(end, 2);
  if (ending != "ll" && ending != "re" && ending != "ve") return false;
  const std::string_view before = word.substr(0, word.size() - 2);
  return before.ends_with('\'') || before.ends_with("\u2019");
}

// The folded word whose possessive (or "is") t is: "Dick's", "crap’s", "DICK'S" give "dick", "crap";
// else empty.
std::string_view OwnerOf(std::string_view text, const Scratch& s, const Token& t) {
  const std::string_view raw = text.substr(t.begin, t.end - t.begin);
  const std::string_view folded = s.Folded(t);
  const bool apostrophe_s = raw.ends_with("'s") || raw.ends_with("'S") || raw.ends_with("\u2019s") || raw.ends_with("\u2019S");
  if (!apostrophe_s || folded.size() < 2 || folded.back() != 's') return {};
  CHATPIPE_STEPS(folded.size());
  return folded.substr(0, folded.size() - 1);
}

// The letters a to z that w holds, a bit each: one pass over a word rules out most affixes before any
// search for them (MatchWord tries every affix on every word the lexicon does not know).
uint32_t LetterSet(std::string_view w) {
  uint32_t set = 0;
  for (char c : w)
    if (c >= 'a' && c <= 'z') set |= 1u << (c - 'a');
  return set;
}

}  // namespace

void Profanity::Add(std::string_view form, int base) {
  const bool prefix = form.back() == '*';   // "mierd*": starts the word
  const bool suffix = form.front() == '*';  // "*shit": ends it
  const std::string folded = FoldWord(form.substr(suffix, form.size() - suffix - prefix));
  Squeezed sq;
  Squeeze(folded, false, &sq);
  if (prefix || suffix) {
    // "*fuck*" may sit anywhere; "mierd*" must start the word; "*shit" must end it.
    affixes_.push_back({std::string(sq.view()), prefix && !suffix, suffix && !prefix, {base, -1}, LetterSet(sq.view())});
    return;
  }
  const int key = keys_.Add(sq.view());
  for (size_t k = 1; k <= sq.size; ++k) key_prefixes_.Add(sq.view().substr(0, k));
  if (key == static_cast<int>(by_key_.size())) by_key_.emplace_back();
  by_key_[key].push_back(static_cast<int>(forms_.size()));
  if (folded.size() <= kMaxBadLength) by_size_[folded.size()].push_back(static_cast<int>(forms_.size()));
  forms_.push_back({folded, std::string(reinterpret_cast<const char*>(sq.runs), sq.size), {base, -1}});
}

// A base term's id, its level set; fails on a word that is no level, or on a base given two levels.
Status Profanity::AddBase(std::string_view level_name, std::string_view base, int* id) {
  const std::optional<Severity> level = ParseSeverity(level_name);
  if (!level || *level == Severity::kNone)
    return LexiconError("unknown level '" + std::string(level_name) + "' (want mild or strong)");
  *id = bases_.Add(base);
  if (levels_.size() < static_cast<size_t>(bases_.size())) levels_.push_back(*level);
  else if (levels_[*id] != *level) return LexiconError("'" + std::string(base) + "' has another level on an earlier line");
  return Status::Ok();
}

Status Profanity::Load(LexiconReader& reader) {
  if (Status st = LoadTerms(reader); !st.ok()) return st;
  if (Status st = LoadPhrases(reader); !st.ok()) return st;
  if (Status st = LoadNames(reader); !st.ok()) return st;
  return LoadSenses(reader);
}

Status Profanity::LoadSenses(LexiconReader& reader) {
  sense_of_.assign(bases_.size(), -1);
  int senses = 0;
  return reader.ForEachLine("senses.txt", [&](const Fields& f) {
    if (f.size() < 2) return LexiconError("want: word cue...");
    const int base = bases_.Find(FoldWord(f[0]));
    if (base < 0) return LexiconError("'" + std::string(f[0]) + "' is no base term of the profanity lists");
    if (senses == kMaxSenses) return LexiconError("more than 64 words with senses");
    if (sense_of_[base] >= 0) return LexiconError("'" + std::string(f[0]) + "' has its cues on an earlier line");
    sense_of_[base] = senses;
    for (size_t i = 1; i < f.size(); ++i) {
      // An emoji is a cue of its own: a token with no word ("te mato 😂" is a laugh, as "te mato kkk").
      const Char c = Decode(f[i], 0);
      if (c.len == f[i].size() && c.cp >= 0x2000 && c.info.kind != kLetter)
        emoji_cues_.emplace_back(c.cp, uint64_t{1} << senses);
      else
        sense_cues_.emplace_back(FoldWord(f[i]), uint64_t{1} << senses);
    }
    ++senses;
    return Status::Ok();
  });
}

Status Profanity::LoadTerms(LexiconReader& reader) {
  for (int lang = 0; lang < kLangs; ++lang) {
    Status st = reader.ForEachLine(std::string("profanity_") + kLangCodes[lang] + ".txt", [&](const Fields& f) {
      if (f.size() < 2) return LexiconError("want: level base [forms...]");
      int base;
      if (Status e = AddBase(f[0], FoldWord(f[1]), &base); !e.ok()) return e;
      if (base_langs_.size() <= static_cast<size_t>(base)) base_langs_.resize(base + 1);
      base_langs_[base] |= 1 << lang;
      for (size_t i = 1; i < f.size(); ++i) Add(f[i], base);
      if (affixes_.size() > kMaxAffixes) return LexiconError("more than 64 forms with '*' in all the lists");
      return Status::Ok();
    });
    if (!st.ok()) return st;
  }
  // MatchWild looks only at the forms that start with the candidate's first letter, in file order.
  for (std::vector<int>& forms : by_size_)
    std::stable_sort(forms.begin(), forms.end(), [&](int x, int y) {
      return static_cast<unsigned char>(forms_[x].folded[0]) < static_cast<unsigned char>(forms_[y].folded[0]);
    });
  return Status::Ok();
}

// `class NAME word...`: the words @NAME stands for in the phrases after it.
Status Profanity::LoadClass(const Fields& f) {
  if (f.size() < 3) return LexiconError("want: class NAME word...");
  if (class_names_.Find(f[1]) >= 0) return LexiconError("class '" + std::string(f[1]) + "' on an earlier line");
  if (class_names_.size() == kMaxClasses) return LexiconError("more than " + std::to_string(kMaxClasses) + " classes");
  const int c = class_names_.Add(f[1]);
  for (size_t i = 2; i < f.size(); ++i) class_words_.emplace_back(FoldWord(f[i]), c);
  return Status::Ok();
}

Status Profanity::LoadPhrases(LexiconReader& reader) {
  std::vector<int> hostile;
  Status st = reader.ForEachLine("profanity_phrases.txt", [&](const Fields& f) {
    if (f[0] == "class") return LoadClass(f);
    if (f[0] == "negative") {
      if (f.size() < 2) return LexiconError("want: negative TERM...");
      for (size_t i = 1; i < f.size(); ++i) {
        int id = bases_.Find(f[i]);  // a phrase's name ("self-harm"), else a word ("mátate")
        if (id < 0) id = bases_.Find(FoldWord(f[i]));
        if (id < 0) return LexiconError("no term '" + std::string(f[i]) + "' on an earlier line");
        hostile.push_back(id);
      }
      return Status::Ok();
    }
    // "strong threat: ill @harm you": the term is named "threat" in the tags, not by its words.
    const bool named = f.size() > 1 && f[1].size() > 1 && f[1].ends_with(':');
    if (f.size() < 3u + named) return LexiconError("want: level [name:] word word...");
    Phrase p;
    std::string name;  // the term tags name it by: its folded words, spaced, unless named
    for (size_t i = 1 + named; i < f.size(); ++i) {
      if (f[i].starts_with('@') && class_names_.Find(f[i].substr(1)) < 0)
        return LexiconError("no class '" + std::string(f[i].substr(1)) + "' on an earlier line");
      p.folded.push_back(f[i].starts_with('@') ? std::string(f[i]) : FoldWord(f[i]));
      name.append(i > 1u + named ? " " : "").append(p.folded.back());
    }
    if (named) name = f[1].substr(0, f[1].size() - 1);
    if (f[0] == "none") p.base = -1;
    else if (Status e = AddBase(f[0], name, &p.base); !e.ok()) return e;
    phrases_.push_back(std::move(p));
    return Status::Ok();
  });
  hostile_.assign(bases_.size(), false);
  for (int id : hostile) hostile_[id] = true;  // ids of lines read before any failure
  return st;
}

Status Profanity::LoadNames(LexiconReader& reader) {
  return reader.ForEachLine("names.txt", [&](const Fields& f) {
    if (f[0] == "cue" || f[0] == "article") {
      int lang;
      if (f.size() < 3) return LexiconError("want: " + std::string(f[0]) + " LANG word...");
      if (Status st = ParseLang(f[1], &lang); !st.ok()) return st;
      const uint16_t role = (f[0] == "cue" ? kCue : kArticle) << lang;
      for (size_t i = 2; i < f.size(); ++i) roles_.emplace_back(FoldWord(f[i]), role);
      return Status::Ok();
    }
    if (f[0] == "word") {
      if (f.size() < 2) return LexiconError("want: word Wórd... (ordinary words, with their accents)");
      for (size_t i = 1; i < f.size(); ++i) {
        if (!HasNonAscii(f[i])) return LexiconError("word: " + std::string(f[i]) + " has no accent to tell it by");
        const std::string folded = FoldWord(f[i]);
        roles_.emplace_back(folded, kWordAccented);
        accented_words_.emplace_back(folded, LowerSpelling(f[i], 0, f[i].size()));
      }
      return Status::Ok();
    }
    if (f[0] == "title" || f[0] == "particle") {
      if (f.size() < 2) return LexiconError("want: " + std::string(f[0]) + " word...");
      for (size_t i = 1; i < f.size(); ++i) roles_.emplace_back(FoldWord(f[i]), f[0] == "title" ? kTitle : kParticle);
      return Status::Ok();
    }
    const bool mid = f.size() == 3 && f[2] == "mid", any = f.size() == 3 && f[2] == "any";
    if (f[0] != "name" || f.size() < 2 || (f.size() == 3 && !mid && !any) || f.size() > 3)
      return LexiconError(
          "want: name Word [mid|any], word Wórd..., cue LANG word..., article LANG word..., title word... or particle "
          "word...");
    const bool accented = HasNonAscii(f[1]);
    const std::string folded = FoldWord(f[1]);
    roles_.emplace_back(folded, kName | (mid ? kNameMidOnly : 0) | (any ? kNameAnyCase : 0) |
                                    (accented ? kNameAccented : 0));
    if (accented) accented_words_.emplace_back(folded, LowerSpelling(f[1], 0, f[1].size()));
    return Status::Ok();
  });
}

Status Profanity::CheckEmojiCues(const Lexicon& lexicon) const {
  for (const auto& [emoji, senses] : emoji_cues_) {
    float valence;
    if (lexicon.EmojiValence(emoji, &valence)) continue;
    char code[16];
    std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(emoji));
    return LexiconError(std::string("senses.txt: the cue ") + code +
                        " is no emoji of emoji.tsv, so no message would ever show it");
  }
  return Status::Ok();
}

void Profanity::Link(Lexicon* lexicon) {
  // Names, cues and the words of phrases become lexicon words: a token's id then says what it is.
  const int known = lexicon->size();
  for (const auto& [word, role] : roles_) lexicon->AddWord(word);
  for (const auto& [word, c] : class_words_) lexicon->AddWord(word);
  // A phrase that opens with a class is one phrase for each of its words: a token finds the phrases it
  // starts by its word alone.
  std::vector<Phrase> linked;
  for (Phrase& p : phrases_) {
    for (const std::string& w : p.folded)
      p.words.push_back(w.starts_with('@') ? -1 - class_names_.Find(std::string_view(w).substr(1))
                                           : lexicon->AddWord(w));
    if (p.words[0] >= 0) {
      linked.push_back(std::move(p));
      continue;
    }
    for (const auto& [word, c] : class_words_) {
      if (-1 - c != p.words[0]) continue;
      linked.push_back(p);
      linked.back().words[0] = lexicon->Find(word);
    }
  }
  phrases_ = std::move(linked);
  for (size_t k = 0; k < phrases_.size(); ++k) phrases_[k].line = static_cast<int>(k);
  // By first word; of a word's, those that any second word may go on with first.
  auto paired = [](const Phrase& p) { return p.words.size() > 1 && p.words[1] >= 0; };
  std::stable_sort(phrases_.begin(), phrases_.end(), [&](const Phrase& a, const Phrase& b) {
    return a.words[0] != b.words[0] ? a.words[0] < b.words[0] : paired(a) < paired(b);
  });
  for (const auto& [word, senses] : sense_cues_) lexicon->AddWord(word);
  // Sized once every word is in: any token's word indexes these.
  classes_of_.assign(lexicon->size(), {});
  for (const auto& [word, c] : class_words_) classes_of_[lexicon->Find(word)].set(c);
  role_.assign(lexicon->size(), 0);
  for (const auto& [word, role] : roles_) role_[lexicon->Find(word)] |= role;
  for (auto& [word, spelling] : accented_words_) accented_.emplace_back(lexicon->Find(word), std::move(spelling));
  accented_words_.clear();
  for (const auto& [word, senses] : sense_cues_) {
    const int id = lexicon->Find(word);
    role_[id] |= kSenseCue;
    cue_senses_[id] |= senses;
  }
  phrases_from_.assign(lexicon->size(), {});
  for (size_t k = 0; k < phrases_.size(); ++k) {
    const std::vector<int>& w = phrases_[k].words;
    PhraseRange& from = phrases_from_[w[0]];
    if (k == 0 || phrases_[k - 1].words[0] != w[0]) from = {static_cast<int>(k), static_cast<int>(k)};
    role_[w[0]] |= kStartsPhrase;
    if (paired(phrases_[k])) phrase_pairs_.Add(w[0], w[1]);
    else from.paired = static_cast<int>(k) + 1;
  }
  // A bad word reads in sentiment as the form it matched, else as its base term.
  for (Form& f : forms_) {
    f.match.word = lexicon->Find(f.folded);
    if (f.match.word < 0) f.match.word = lexicon->Find(bases_.Key(f.match.base));
  }
  for (Affix& a : affixes_) a.match.word = lexicon->Find(bases_.Key(a.match.base));
  // Precomputed: whether each known word is a bad one, so that most tokens need no matching.
  for (int id = 0; id < lexicon->size(); ++id) lexicon->info(id).bad = MatchWord(lexicon->Word(id)).base;
  // A bad word added here reads in sentiment as its base term, as it did before it was a word.
  for (int id = known; id < lexicon->size(); ++id) {
    WordInfo& w = lexicon->info(id);
    const int base = w.bad < 0 ? -1 : lexicon->Find(bases_.Key(w.bad));
    if (base < 0 || base >= known) continue;
    std::copy(std::begin(lexicon->info(base).valence), std::end(lexicon->info(base).valence), std::begin(w.valence));
    w.has_valence = lexicon->info(base).has_valence;
  }
}

Profanity::Match Profanity::MatchWord(std::string_view candidate) const {
  CHATPIPE_STEPS(2 * candidate.size());  // looking for '*' and '1'
  if (candidate.find('*') != std::string_view::npos) return MatchWild(candidate);
  Squeezed sq;
  for (bool one_is_l : {false, true}) {
    if (one_is_l && candidate.find('1') == std::string_view::npos) break;
    if (!Squeeze(candidate, one_is_l, &sq)) return {};
    const std::string_view w = sq.view();
    if (const int key = keys_.Find(w); key >= 0)
      if (const Match m = MatchKey(key, sq.runs, sq.size, sq.runs[sq.size - 1]); m.base >= 0) return m;
    CHATPIPE_STEPS(w.size());
    const uint32_t letters = LetterSet(w);
    for (const Affix& a : affixes_) {
      if (a.letters & ~letters) continue;
      CHATPIPE_STEPS(w.size() + a.core.size());
      if (a.prefix ? w.starts_with(a.core) : a.suffix ? w.ends_with(a.core) : w.find(a.core) != std::string_view::npos)
        return a.match;
    }
  }
  return {};
}

// The first form of key whose runs the word's all reach (its last run is last_run, not runs[size - 1]).
Profanity::Match Profanity::MatchKey(int key, const uint8_t* runs, size_t size, uint8_t last_run) const {
  for (int index : by_key_[key]) {
    const Form& form = forms_[index];
    CHATPIPE_STEPS(size);
    size_t k = 0;
    while (k < size && (k + 1 < size ? runs[k] : last_run) >= static_cast<uint8_t>(form.runs[k])) ++k;
    if (k == size) return form.match;
  }
  return {};
}

// The forms of that many letters that start with the letter c, in file order (LoadTerms sorts them so).
std::pair<std::vector<int>::const_iterator, std::vector<int>::const_iterator> Profanity::FormsFrom(size_t size,
                                                                                                  char c) const {
  const std::vector<int>& sized = by_size_[size];
  const auto letter = [&](int index) { return static_cast<unsigned char>(forms_[index].folded[0]); };
  const auto u = static_cast<unsigned char>(c);
  const auto first = std::partition_point(sized.begin(), sized.end(), [&](int index) { return letter(index) < u; });
  return {first, std::partition_point(first, sized.end(), [&](int index) { return letter(index) == u; })};
}

// A self-censored word ("f*ck", "s**t", "a**hole"): each '*' stands for one letter. At least two
// real letters are needed: one letter and stars is MatchStarred's.
Profanity::Match Profanity::MatchWild(std::string_view candidate) const {
  if (candidate.size() > kMaxBadLength) return {};
  CHATPIPE_STEPS(candidate.size());
  const size_t stars = std::count(candidate.begin(), candidate.end(), '*');
  if (candidate.size() - stars < 2) return {};
  const std::vector<int>& sized = by_size_[candidate.size()];
  const auto [first, last] = candidate[0] == '*' ? std::make_pair(sized.begin(), sized.end())
                                                 : FormsFrom(candidate.size(), Unleet(candidate[0], false));
  for (auto it = first; it != last; ++it) {
    const Form& form = forms_[*it];
    const std::string& f = form.folded;
    CHATPIPE_STEPS(f.size());
    size_t k = 0;
    while (k < f.size() && (candidate[k] == '*' || Unleet(candidate[k], false) == f[k])) ++k;
    if (k == f.size()) return form.match;
  }
  return {};
}

// The bad base term of a one-letter token and three or more stars after it ("f***", "hijo de p***"), or
// -1; the stars are no token, and no piece follows them (a word in pieces, "f***ing", is a join). Which
// word hides there is a guess: the first base term of the lists with that letter and that many
// letters, by its own spelling, of the language lang if it has one ("f***" fuck, "s***" shit,
// "m****" merda in Portuguese); lang -1: of any. Two stars are no word ("A**", a grade). The tagger's
// own masked output reads as a bad word again: what it hides was one.
int Profanity::MatchStarred(std::string_view text, const Scratch& s, int lang, Token* t) const {
  if (t->letters != 1 || t->fold_end - t->fold_begin != 1) return -1;
  size_t end = t->end;
  // The letter is one of the word's letters: at most kMaxBadLength - 1 stars (by_size_'s bound).
  while (end < text.size() && text[end] == '*' && end - t->end < kMaxBadLength - 1) ++end;
  CHATPIPE_STEPS(end - t->end + 1);
  const size_t size = 1 + end - t->end;
  if (size < 4 || (end < text.size() && (text[end] == '*' || IsWordByte(text[end])))) return -1;
  const auto [first, last] = FormsFrom(size, s.fold[t->fold_begin]);
  const Form* found = nullptr;
  for (auto it = first; it != last; ++it) {
    CHATPIPE_STEPS(1);
    const Form& form = forms_[*it];
    if (form.folded != bases_.Key(form.match.base)) continue;
    if (!found) found = &form;
    if (lang < 0 || base_langs_[form.match.base] >> lang & 1) {
      found = &form;
      break;
    }
  }
  if (!found) return -1;
  t->word = found->match.word;
  t->exact = false;
  return found->match.base;
}

// One way (v: '1' read as 'i', or as 'l') of squeezing a join of pieces, read off for each prefix
// (the join up to the end of its token j): the squeeze of a prefix is the start of the whole one.
struct Profanity::JoinTrace {
  Squeezed sq;
  size_t size[kMaxJoin] = {};     // of the squeeze of each prefix; 0 when it has too many runs
  uint8_t last_run[kMaxJoin] = {};  // its last run, which the rest of the join may have made longer
  size_t affix_end[kMaxAffixes];  // where each affix not tied to the end first ends in sq; SIZE_MAX: nowhere
  size_t keys_below = 0;          // prefixes j < keys_below start a key; no later one can be one
};

// What MatchWord gives for the prefix j, from its trace.
Profanity::Match Profanity::MatchTraced(const JoinTrace& t, size_t j) const {
  const std::string_view w(t.sq.text, t.size[j]);
  if (j < t.keys_below)
    if (const int key = keys_.Find(w); key >= 0)
      if (const Match m = MatchKey(key, t.sq.runs, w.size(), t.last_run[j]); m.base >= 0) return m;
  CHATPIPE_STEPS(affixes_.size());
  for (size_t k = 0; k < affixes_.size(); ++k) {
    const Affix& a = affixes_[k];
    if (a.suffix ? w.ends_with(a.core) : t.affix_end[k] <= w.size()) return a.match;
  }
  return {};
}

// A word in pieces: what MatchWord gives for the longest prefix of join (join up to ends[j], j from
// n - 1 down to 1) that is a bad word; *last gets its j, 0 if none. The join (up to its first '*':
// a prefix with one is matched by MatchWild) is squeezed and searched for each affix once, and each
// prefix read off that, so n prefixes cost little more than one. A prefix whose squeeze is that of a
// longer one that failed fails too: the same letters, runs no longer.
Profanity::Match Profanity::MatchJoin(std::string_view join, const size_t* ends, size_t n, size_t* last) const {
  CHATPIPE_STEPS(3 * join.size());
  const size_t star = join.find('*'), one = join.find('1');
  size_t letter = 0;  // the first ASCII letter: a prefix without one is no word
  while (letter < join.size() && (join[letter] < 'a' || join[letter] > 'z')) ++letter;
  const size_t plain = std::min(star, join.size());  // squeezed: no prefix with a '*'
  JoinTrace traces[2];
  for (int v = 0; v < 2 && (v == 0 || one < plain) && ends[1] <= plain; ++v) {
    JoinTrace& t = traces[v];
    bool fits = true;
    for (size_t i = 0, j = 0; i < plain; ++i) {
      fits = fits && t.sq.Push(Unleet(join[i], v == 1));
      for (; j < n && ends[j] == i + 1; ++j) {
        t.size[j] = fits ? t.sq.size : 0;
        t.last_run[j] = fits ? t.sq.runs[t.sq.size - 1] : 0;
      }
    }
    const std::string_view s = t.sq.view();
    CHATPIPE_STEPS(affixes_.size() * s.size());
    for (size_t k = 0; k < affixes_.size(); ++k) {
      const Affix& a = affixes_[k];
      const size_t at = a.prefix ? (s.starts_with(a.core) ? 0 : std::string_view::npos) : s.find(a.core);
      t.affix_end[k] = at == std::string_view::npos ? SIZE_MAX : at + a.core.size();
    }
    for (size_t& j = t.keys_below; j < n && t.size[j] > 0; ++j) {
      const bool same = j > 0 && t.size[j] == t.size[j - 1];  // the same letters: a key's start still
      if (!same && key_prefixes_.Find(s.substr(0, t.size[j])) < 0) break;
    }
  }
  size_t failed[2] = {0, 0};  // the squeezed size of the last prefix that failed, each way
  for (size_t j = n - 1; j >= 1; --j) {
    const size_t size = ends[j];
    if (size < 3) continue;
    Match m;
    if (star < size) {
      m = MatchWild(join.substr(0, size));
    } else {
      for (int v = 0; v < 2 && (v == 0 || one < size); ++v) {
        const size_t squeezed = traces[v].size[j];
        if (squeezed == 0 || letter >= size) break;
        if (squeezed == failed[v]) continue;
        m = MatchTraced(traces[v], j);
        if (m.base >= 0) break;
        failed[v] = squeezed;
      }
    }
    if (m.base >= 0) {
      *last = j;
      return m;
    }
  }
  *last = 0;
  return {};
}

// Whether tokens a and a+1 may be one word split up: glued by one in-word separator ("mier.da",
// "sh!t", "f*ck", "f**k") or, for single characters, by a little space or punctuation ("f u c k").
// A number of two digits or more is never a piece: else a homework's "q 1-10" reads as "qlo" (culiao).
bool Profanity::Linked(std::string_view text, const Scratch& s, size_t a) const {
  const Token& x = s.tokens[a];
  const Token& y = s.tokens[a + 1];
  if (x.is_emoji || y.is_emoji || x.bad >= 0 || y.bad >= 0) return false;
  const auto number = [](const Token& t) { return t.letters == 0 && t.fold_end - t.fold_begin > 1; };
  if (number(x) || number(y)) return false;
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

// The bad word whose 's a token is ("crap's gotta go", "hell's": "craps" and "hells" are no forms).
Profanity::Match Profanity::MatchOwner(std::string_view text, const Scratch& s, const Token& t) const {
  const std::string_view owner = OwnerOf(text, s, t);
  return owner.empty() ? Match{} : MatchWord(owner);
}

void Profanity::FindBadWords(const Lexicon& lexicon, std::string_view text, Scratch* s) const {
  std::vector<Token>& tokens = s->tokens;
  for (Token& t : tokens) {
    CHATPIPE_STEPS(1);
    if (t.is_emoji) continue;
    if (t.exact) {
      const WordInfo& w = lexicon.info(t.word);
      if (w.allow == kEveryLanguage) continue;
      t.bad = w.bad >= 0 ? w.bad : MatchOwner(text, *s, t).base;  // its word stays: "hells" of a phrase
    } else if (Match m = MatchWord(s->Folded(t)); m.base >= 0 || (m = MatchOwner(text, *s, t)).base >= 0) {
      t.bad = m.base;
      t.word = m.word;
    }
    if (t.bad < 0 && t.letters == 1 && t.end < text.size() && text[t.end] == '*') t.bad = MatchStarred(text, *s, -1, &t);
    if (t.bad >= 0 && IsContraction(text.substr(t.begin, t.end - t.begin))) t.bad = -1;
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
    size_t pieces;
    const Match m = MatchJoin(join, ends, chain - a + 1, &pieces);
    if (m.base < 0) continue;
    tokens[a].bad = m.base;
    tokens[a].word = m.word;
    tokens[a].exact = false;
    for (size_t k = a + 1; k <= a + pieces; ++k) tokens[k].absorbed = true;
    a += pieces;
  }
}

// The innocent senses the message's words show (senses.txt), as bits by sense.
uint64_t Profanity::SensesShown(std::string_view text, const Scratch& s) const {
  CHATPIPE_STEPS(s.tokens.size() * (1 + emoji_cues_.size()));
  uint64_t shown = 0;
  for (const Token& t : s.tokens) {
    if (t.is_emoji) {
      const char32_t cp = Decode(text, t.begin).cp;
      for (const auto& [emoji, senses] : emoji_cues_)
        if (emoji == cp) shown |= senses;
    } else if (t.word >= 0 && (role_[t.word] & kSenseCue)) {
      shown |= cue_senses_.find(t.word)->second;
    }
  }
  return shown;
}

void Profanity::Allow(const Lexicon& lexicon, int lang, std::string_view text, const ScanStats& st, Scratch* s) const {
  CHATPIPE_STEPS(s->tokens.size());
  std::optional<uint64_t> shown;  // read once, and only for a message with a bad word that has senses
  for (size_t i = 0; i < s->tokens.size(); ++i) {
    Token& t = s->tokens[i];
    if (t.bad < 0) continue;
    if (sense_of_[t.bad] >= 0) {
      if (!shown) shown = SensesShown(text, *s);
      if (*shown >> sense_of_[t.bad] & 1) {
        t.bad = -1;
        continue;
      }
    }
    if (t.end < text.size() && text[t.end] == '*')  // "p***", read again in the message's language
      if (const int starred = MatchStarred(text, *s, lang, &t); starred >= 0) t.bad = starred;
    // A possessive is read as its owner ("Dick's" as Dick, though "dicks" is a name only mid-sentence).
    const int owner = PossessiveOf(lexicon, text, *s, t);
    const int word = owner >= 0 ? owner : t.exact ? t.word : -1;
    if ((t.exact && lexicon.info(t.word).allow >> lang & 1) || IsSparedName(lang, text, st, *s, i, word) ||
        (word >= 0 && (role_[word] & kWordAccented) && AccentedSpelling(text, t, word) > 0))
      t.bad = -1;
  }
  MarkPhrases(lexicon, lang, text, s, &shown);
}

// Whether token i, read as the lexicon word `word` (-1: none), is a known name that stays a name.
// Whatever its case, after a title ("mrs fagg") or beside a particle ("DICK VAN DYKE"). Otherwise only
// Capitalised, where case says something (an ALL-CAPS token in a message that has lower case, or the
// message's only word, is shouting, but in a message all in capitals it may be a name). An `any` name,
// which chat writes in lower case as often as not ("ask dick"), in every case but as the message's
// only word. And not cued as an insult (CuedAsInsult: "you Dick", "a spineless dick"); a `mid` name
// only inside a sentence.
bool Profanity::IsSparedName(int lang, std::string_view text, const ScanStats& st, const Scratch& s, size_t i,
                             int word) const {
  CHATPIPE_STEPS(1);
  if (word < 0 || !(role_[word] & kName)) return false;
  const Token& t = s.tokens[i];
  if (i > 0 && (RoleOf(s.tokens[i - 1]) & (kTitle | kParticle))) return true;
  if (i + 1 < s.tokens.size() && !s.tokens[i + 1].clause_start && (RoleOf(s.tokens[i + 1]) & kParticle)) return true;
  if (role_[word] & kNameAccented) {
    const int spelled = AccentedSpelling(text, t, word);
    if (spelled > 0) return !CuedAsInsult(lang, s.tokens, i);  // "FODÉ!", "Maricá tá lotada"
    if (spelled < 0) return false;                             // another accent: "VAI SE FODÊ"
  }
  if (role_[word] & kNameAnyCase ? st.words == 1
                                 : t.caps ? st.has_lower || st.words == 1 : !Decode(text, t.begin).info.upper)
    return false;
  if (i == 0 || t.clause_start) return !(role_[word] & kNameMidOnly);
  return !CuedAsInsult(lang, s.tokens, i);
}

// How token t, read as the kNameAccented name or kWordAccented word `word`, is spelled: 1 with its own
// accents, in any case (no form of the bad word carries them, so it is the name or the ordinary word
// even shouted or opening a sentence); -1 with other accents ("FODÊ", Brazil's spelling of the verb: no
// spelling of the name); 0 with none (the bad word's reading stands; for a name, case decides).
int Profanity::AccentedSpelling(std::string_view text, const Token& t, int word) const {
  if (!HasNonAscii(text.substr(t.begin, t.end - t.begin))) return 0;
  const std::u32string spelled = LowerSpelling(text, t.begin, t.end);
  CHATPIPE_STEPS(t.end - t.begin);
  for (const auto& [id, spelling] : accented_)  // a prefix: the name's possessive ("Fodé's") too
    if (id == word && spelled.compare(0, spelling.size(), spelling) == 0) return 1;
  return -1;
}

// Whether the words before token i, in its clause, say that the name there is the bad word: a cue of
// the message's language right before it ("you Dick", "eres un Pico"), or an article two before with
// one word between ("a spineless dick"; not "you and dick").
bool Profanity::CuedAsInsult(int lang, const std::vector<Token>& tokens, size_t i) const {
  if (i == 0 || tokens[i].clause_start) return false;
  if (RoleOf(tokens[i - 1]) & (kCue << lang)) return true;
  return i >= 2 && !tokens[i - 1].clause_start && (RoleOf(tokens[i - 2]) & (kArticle << lang));
}

// What the token's word is to the rules on neighbours; an emoji or an unknown word is nothing.
uint16_t Profanity::RoleOf(const Token& t) const { return t.is_emoji || t.word < 0 ? 0 : role_[t.word]; }

// The lexicon word whose possessive t is ("Dick's", "Dick’s": the folded token less its last
// letter), or -1. A possessive is read as a form of the word ("dicks"), so without this a name lost its
// name's reading the moment it owned something.
int Profanity::PossessiveOf(const Lexicon& lexicon, std::string_view text, const Scratch& s, const Token& t) const {
  const std::string_view owner = OwnerOf(text, s, t);
  return owner.empty() ? -1 : lexicon.Find(owner);
}

// The lexicon word a token reads as in a phrase: its own, or that of its letters with leetspeak undone
// ("h1j0 d3 put4"); -1 if none.
int Profanity::PhraseWord(const Lexicon& lexicon, const Scratch& s, const Token& t) const {
  if (t.word >= 0 || t.is_emoji) return t.word;
  const std::string_view w = s.Folded(t);
  char buf[16];
  if (w.size() == t.letters || w.size() > sizeof buf) return -1;  // letters only: no leetspeak
  CHATPIPE_STEPS(w.size());
  bool leet = false;
  for (size_t i = 0; i < w.size(); ++i) {
    buf[i] = Unleet(w[i], false);
    leet |= buf[i] != w[i];
  }
  return leet ? lexicon.Find(std::string_view(buf, w.size())) : -1;
}

// Whether the lexicon word `word` (-1: none) is, or is in the class of, the phrase's word k.
bool Profanity::PhraseHas(const Phrase& p, size_t k, int word) const {
  const int want = p.words[k];
  if (want >= 0) return word == want;
  return word >= 0 && classes_of_[word].test(-1 - want);
}

// Every token of a phrase gets the phrase's term, unless it is a bad word of a higher level itself;
// an innocent phrase unmarks its tokens, and a phrase whose term's innocent sense the message shows
// (senses.txt: a laugh beside a threat, "te mato kkkk") leaves them as they were. Of the phrases from a
// token, the longest wins ("te reviento la cara" over "te reviento"), the first in the file of those as
// long. An innocent phrase that opens with a known name is no name after a cue word of the message's
// language: "dick from accounts" is a man, "you dick from accounts" an insult. The phrases from a word
// are few (data), so each token starts a bounded number of comparisons.
// shown: the senses the message shows, if Allow has read them.
void Profanity::MarkPhrases(const Lexicon& lexicon, int lang, std::string_view text, Scratch* s,
                            std::optional<uint64_t>* shown) const {
  std::vector<Token>& tokens = s->tokens;
  for (size_t i = 0; i < tokens.size(); ++i) {
    CHATPIPE_STEPS(1);
    const int word = PhraseWord(lexicon, *s, tokens[i]);
    if (word < 0 || !(role_[word] & kStartsPhrase) || tokens[i].absorbed) continue;
    // The word after it, read once: most phrases from a word part there ("te" starts seventy). Unless
    // the filter holds the pair, only those of one word or with a class second are read.
    size_t next = i + 1;
    while (next < tokens.size() && tokens[next].absorbed) ++next;
    const int second =
        next < tokens.size() && !tokens[next].clause_start ? PhraseWord(lexicon, *s, tokens[next]) : -1;
    const auto first = phrases_.begin() + phrases_from_[word].first;
    const auto end = phrase_pairs_.MayHave(word, second) ? phrases_.end() : phrases_.begin() + phrases_from_[word].paired;
    const Phrase* best = nullptr;
    size_t best_end = i;  // the last token of best
    for (auto p = first; p != end && p->words[0] == word; ++p) {
      CHATPIPE_STEPS(1);
      size_t k = i, matched = 1;
      if (p->words.size() > 1) {
        if (!PhraseHas(*p, 1, second)) continue;
        k = next;
        matched = 2;
      }
      for (; matched < p->words.size(); ++matched) {
        do {
          CHATPIPE_STEPS(1);
          ++k;
        } while (k < tokens.size() && tokens[k].absorbed);
        const bool same = k < tokens.size() && !tokens[k].clause_start &&
                          PhraseHas(*p, matched, PhraseWord(lexicon, *s, tokens[k]));
        if (!same) break;
      }
      if (matched < p->words.size() || (best && (k < best_end || (k == best_end && best->line < p->line)))) continue;
      best = &*p;
      best_end = k;
    }
    if (!best) continue;
    if (best->base < 0 && (role_[word] & kName) && CuedAsInsult(lang, tokens, i)) continue;
    if (best->base >= 0 && sense_of_[best->base] >= 0) {
      if (!*shown) *shown = SensesShown(text, *s);
      if (**shown >> sense_of_[best->base] & 1) {
        i = best_end;
        continue;
      }
    }
    for (size_t j = i; j <= best_end; ++j) {
      CHATPIPE_STEPS(1);
      Token& t = tokens[j];
      const bool in_pieces = j + 1 < tokens.size() && tokens[j + 1].absorbed;
      if (t.absorbed) continue;
      if (best->base < 0) {
        if (!in_pieces) t.bad = -1;
      } else if (t.bad < 0 || levels_[t.bad] <= levels_[best->base]) {
        t.bad = best->base;
      }
    }
    i = best_end;
  }
}

}  // namespace chatpipe::analysis
