#include "analysis/lexicon.h"

#include <algorithm>
#include <cctype>

#include "analysis/chars.h"
#include "analysis/normalize.h"
#include "analysis/steps.h"

namespace chatpipe::analysis {

int Lexicon::AddWord(std::string_view raw) {
  const int id = words_.Add(FoldWord(raw));
  if (id == static_cast<int>(info_.size())) info_.emplace_back();
  return id;
}

Status Lexicon::LoadWords(LexiconReader& reader) {
  for (int lang = 0; lang < kLangs; ++lang) {
    Status st = reader.ForEachLine(std::string("sentiment_") + kLangCodes[lang] + ".tsv", [&](const Fields& f) {
      double v;
      if (f.size() != 2) return LexiconError("want: word valence");
      if (Status e = ParseNumber(f[1], -4, 4, &v); !e.ok()) return e;
      for (const std::string& form : ExpandForms(f[0])) {
        WordInfo& w = info_[AddWord(form)];
        w.valence[lang] = static_cast<float>(v);
        w.has_valence |= 1 << lang;
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
  }

  // Lists of the form "lang word...": each sets one bit per word.
  const std::pair<const char*, uint8_t WordInfo::*> flag_files[] = {
      {"negations.txt", &WordInfo::negation}, {"contrast.txt", &WordInfo::contrast},
      {"scope_ends.txt", &WordInfo::scope_end}, {"stopwords.txt", &WordInfo::stop}};
  for (const auto& [file, field] : flag_files) {
    // A copy for the lambda: clang before 16 cannot capture a structured binding (ops/fuzz builds with clang 14).
    Status st = reader.ForEachLine(file, [&, field = field](const Fields& f) {
      int lang;
      if (Status e = ParseLang(f[0], &lang); !e.ok()) return e;
      for (size_t i = 1; i < f.size(); ++i) info_[AddWord(f[i])].*field |= 1 << lang;
      return Status::Ok();
    });
    if (!st.ok()) return st;
  }

  Status st = reader.ForEachLine("boosters.txt", [&](const Fields& f) {
    int lang;
    double scalar;
    if (f.size() < 3) return LexiconError("want: lang scalar words...");
    if (Status e = ParseLang(f[0], &lang); !e.ok()) return e;
    if (Status e = ParseNumber(f[1], -1, 1, &scalar); !e.ok()) return e;
    for (size_t i = 2; i < f.size(); ++i) info_[AddWord(f[i])].boost[lang] = static_cast<float>(scalar);
    return Status::Ok();
  });
  if (!st.ok()) return st;

  st = reader.ForEachLine("phrases.txt", [&](const Fields& f) {
    Phrase p;
    double v;
    if (f.size() < 4) return LexiconError("want: lang valence word word...");
    if (Status e = ParseLang(f[0], &p.lang); !e.ok()) return e;
    if (Status e = ParseNumber(f[1], -4, 4, &v); !e.ok()) return e;
    p.valence = static_cast<float>(v);
    for (size_t i = 2; i < f.size(); ++i) p.words.push_back(AddWord(f[i]));
    info_[p.words[0]].phrase |= 1 << p.lang;
    phrase_pairs_.Add(p.words[0], p.words[1]);
    phrases_.push_back(std::move(p));
    return Status::Ok();
  });
  if (!st.ok()) return st;

  st = reader.ForEachLine("emoji.tsv", [&](const Fields& f) {
    double v;
    if (f.size() != 2) return LexiconError("want: symbol valence");
    if (Status e = ParseNumber(f[1], -4, 4, &v); !e.ok()) return e;
    const unsigned char first = f[0][0];
    if (std::isalpha(first)) {  // a word in every language: "haha", "xd"
      WordInfo& w = info_[AddWord(f[0])];
      for (int l = 0; l < kLangs; ++l) w.valence[l] = static_cast<float>(v);
      w.has_valence = kEveryLanguage;
    } else if (first < 0x80) {
      emoticons_.emplace_back(std::string(f[0]), static_cast<float>(v));
    } else {
      emoji_.emplace_back(Decode(f[0], 0).cp, static_cast<float>(v));
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  std::sort(emoji_.begin(), emoji_.end());
  std::stable_sort(phrases_.begin(), phrases_.end(),
                   [](const Phrase& a, const Phrase& b) { return a.words[0] < b.words[0]; });
  std::stable_sort(emoticons_.begin(), emoticons_.end(), [](const auto& a, const auto& b) {
    return a.first[0] != b.first[0] ? a.first[0] < b.first[0] : a.first.size() > b.first.size();
  });
  for (int c = 0, k = 0; c < 128; ++c) {
    faces_from_[c] = static_cast<uint16_t>(k);
    while (k < static_cast<int>(emoticons_.size()) && emoticons_[k].first[0] == c) ++k;
    faces_from_[c + 1] = static_cast<uint16_t>(k);
  }
  laugh_word_ = words_.Find("haha");
  return Status::Ok();
}

Status Lexicon::LoadAllowList(LexiconReader& reader) {
  return reader.ForEachLine("allow.txt", [&](const Fields& f) {
    uint8_t langs = f.size() == 1 ? kEveryLanguage : 0;
    for (size_t i = 1; i < f.size(); ++i) {
      int lang;
      if (Status e = ParseLang(f[i], &lang); !e.ok()) return e;
      langs |= 1 << lang;
    }
    info_[AddWord(f[0])].allow |= langs;
    return Status::Ok();
  });
}

int Lexicon::LookupWord(std::string_view w, bool* exact) const {
  *exact = true;
  if (int id = words_.Find(w); id >= 0) return id;
  *exact = false;
  if (w.size() <= 64 && HasRun(w)) {
    char buf[64];
    if (int id = words_.Find(CutRuns(w, 2, buf)); id >= 0) return id;
    if (int id = words_.Find(CutRuns(w, 1, buf)); id >= 0) return id;
  }
  return IsLaugh(w) ? laugh_word_ : -1;
}

std::pair<std::vector<Phrase>::const_iterator, std::vector<Phrase>::const_iterator> Lexicon::PhrasesFrom(
    int word) const {
  auto first = std::lower_bound(phrases_.begin(), phrases_.end(), word,
                                [](const Phrase& p, int w) { return p.words[0] < w; });
  auto last = first;
  while (last != phrases_.end() && last->words[0] == word) ++last;
  return {first, last};
}

bool Lexicon::EmojiValence(char32_t cp, float* valence) const {
  const auto it = std::lower_bound(emoji_.begin(), emoji_.end(), std::make_pair(cp, -1e9f));
  if (it == emoji_.end() || it->first != cp) return false;
  *valence = it->second;
  return true;
}

namespace {

// The end of the run of text[r]'s character that r is in (r is in it, maybe not at its start). Reads
// only what no earlier call read: a run the cache holds is not read again; a run starting before the
// cached one stops at it or joins it (r is never far behind it: faces are short); a new run beyond it
// is read once and cached.
size_t RunEnd(std::string_view text, size_t r, RunCache* cache) {
  if (cache->begin <= r && r < cache->end) return cache->end;
  size_t end = r + 1;
  for (; end < text.size() && text[end] == text[r]; ++end) {
    CHATPIPE_STEPS(1);
    if (end == cache->begin) {
      end = cache->end;
      break;
    }
  }
  if (end > cache->end) *cache = {r, end};
  return end;
}

}  // namespace

size_t Lexicon::MatchEmoticon(std::string_view text, size_t i, float* valence, RunCache* runs) const {
  const bool after_word = i > 0 && std::isalnum(static_cast<unsigned char>(text[i - 1]));
  const auto first = static_cast<unsigned char>(text[i]);
  for (int k = faces_from_[first]; k < faces_from_[first + 1]; ++k) {
    const auto& [face, v] = emoticons_[k];
    CHATPIPE_STEPS(face.size());
    // The second character rules out most faces without a call to compare.
    if (face.size() > 1 && (i + 1 >= text.size() || text[i + 1] != face[1])) continue;
    if (text.compare(i, face.size(), face) != 0) continue;
    if (after_word && !IsOneOf(face[0], ":;=<^>")) continue;  // "(see above):" is no face
    const size_t end = RunEnd(text, i + face.size() - 1, runs);
    if (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '/')) continue;
    *valence = v;
    return end - i;
  }
  return 0;
}

}  // namespace chatpipe::analysis
