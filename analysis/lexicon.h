// Lexicon: the tagger's word lists once loaded (analysis/data): every known word, folded (chars.h),
// with what it means in each language (sentiment valence, booster scalar, negation, contrast, stop
// word, idiom start, allowed though it looks bad), the idioms, and the emoji and emoticons with their
// valence. Built once by the loaders below, then only read (from any number of threads).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analysis/language.h"
#include "analysis/lexicon_file.h"
#include "analysis/pair_filter.h"
#include "analysis/string_table.h"
#include "common/status.h"

namespace chatpipe::analysis {

struct WordInfo {
  float valence[kLangs] = {};
  float boost[kLangs] = {};
  uint8_t has_valence = 0;  // one bit per language, like the fields below
  uint8_t negation = 0;
  uint8_t contrast = 0;
  uint8_t scope_end = 0;  // a negation does not reach past it ("didn't call and left")
  uint8_t stop = 0;
  uint8_t allow = 0;   // never profanity in these languages
  uint8_t phrase = 0;  // starts an idiom in these languages
  int32_t bad = -1;    // the bad base term this exact word is, -1 if none (set by Profanity::Link)
};

struct Phrase {
  int lang;
  float valence;
  std::vector<int> words;
};

// The run the scanner last read to its end in MatchEmoticon: text[begin, end) is one character repeated
// and text[end] is another (or the end). A face starting inside the run ("^^" in "^^^^^^a") reuses its
// end instead of reading the rest of the run again, so each character is read a bounded number of times.
struct RunCache {
  size_t begin = 0, end = 0;
};

class Lexicon {
 public:
  // sentiment_*.tsv, negations.txt, contrast.txt, scope_ends.txt, stopwords.txt, boosters.txt,
  // phrases.txt, emoji.tsv.
  Status LoadWords(LexiconReader& reader);
  // allow.txt: words never profane (in every language, or in those listed).
  Status LoadAllowList(LexiconReader& reader);

  int AddWord(std::string_view raw);  // folds raw first
  int Find(std::string_view folded) const { return words_.Find(folded); }
  std::string_view Word(int id) const { return words_.Key(id); }
  int size() const { return words_.size(); }
  const WordInfo& info(int id) const { return info_[id]; }
  WordInfo& info(int id) { return info_[id]; }

  // The id of w (folded), of w with stretched letters cut ("goood", "lindooo"), or of laughter
  // ("haha"); -1 if none. *exact when it is w itself.
  int LookupWord(std::string_view w, bool* exact) const;

  // Whether an idiom may start with these two words: false rules out every idiom from first.
  bool MayStartPhrase(int first, int second) const { return phrase_pairs_.MayHave(first, second); }
  // The idioms that start with word, in file order.
  std::pair<std::vector<Phrase>::const_iterator, std::vector<Phrase>::const_iterator> PhrasesFrom(int word) const;

  // The valence of an emoji (by code point), or false.
  bool EmojiValence(char32_t cp, float* valence) const;
  // Whether an emoticon may start with this ASCII character (a cheap test before MatchEmoticon).
  bool MayStartEmoticon(char32_t cp) const { return cp < 0x80 && faces_from_[cp] < faces_from_[cp + 1]; }
  // The length of an emoticon starting at text[i] (":)", ":-(", "<3"), with a repeated last
  // character absorbed (":)))"); 0 if none. It may not be glued to a word on its right. runs is the
  // scanner's, the same for every call over one text, with i growing.
  size_t MatchEmoticon(std::string_view text, size_t i, float* valence, RunCache* runs) const;

 private:
  StringTable words_;
  std::vector<WordInfo> info_;
  std::vector<Phrase> phrases_;  // by first word
  PairFilter phrase_pairs_;      // their first two words
  int laugh_word_ = -1;          // "haha", what every laugh ("jajaja", "kkkk", "rsrs") reads as
  std::vector<std::pair<char32_t, float>> emoji_;         // by code point, sorted
  std::vector<std::pair<std::string, float>> emoticons_;  // by first character, then longest first
  uint16_t faces_from_[129] = {};                         // emoticons_ starting with c: [faces_from_[c], faces_from_[c+1])
};

}  // namespace chatpipe::analysis
