// Tagger: language, sentiment and profanity tags for one chat message, rule-based and fast.
//
// Language is a best guess among es, pt and en from stop-words and letters (ñ, ¿, ã, ç...).
// Sentiment follows VADER's recipe with a lexicon per language: word valences in [-4, 4], negation up
// to four words back within a clause ("no está mal", "não gostei", "not good"), intensifiers and
// dampeners (before or right after their word), contrast ("pero", "mas", "but": the later clause
// weighs more), ALL-CAPS and '!' emphasis, emoji and emoticons, regional idioms; a question keeps only
// its clear feelings and swearing does not decide the feeling (sentiment.h); the sum x becomes a
// score x/sqrt(x²+15) in [-1, 1], neutral when |score| < 0.05. The label is then a small learned
// model's (analysis/learned_model.h), which reads the text's character n-grams and words beside that
// score and the lexicon's other evidence; it is trained by Load on the shipped development sets
// (data/eval/dev_*.tsv, the holdouts read since their blind scoring, the names and look-alike sets), or
// read from the cache an earlier load of the same lists left (learned_cache.h).
// TagOptions::learned_sentiment = false keeps the lexicon's own label, to compare the two.
//
// Profanity is matched on whole tokens after folding case and accents, leetspeak ("m1erda", "$hit",
// "put@"), stretched letters ("fuuuck") and words spelled with separators ("p.u.t.a", "f u c k",
// "f*ck"); an allow-list spares innocent words ("porra" in Spanish). Each term is mild or strong;
// phrases are terms of their own ("hijo de puta", "kill yourself"); a Capitalised known name ("Dick",
// "Twatt") is no bad word without a cue before it ("you Dick"), nor are the caller's names
// (TagOptions::names). Where the lists find nothing, the same model's profanity head may still flag a
// message of three words or more that it is sure of (a threat in words no list holds), as the term
// kLearnedTerm; never one whose bad word the lists spared, nor the tagger's own masked output
// (TagOptions::learned_profanity = false leaves it to the lists).
//
// All word lists are data files read once by Load (analysis/data). A loaded Tagger is immutable:
// Analyze may run on many threads at once. Analyze never fails; bytes that are not valid UTF-8 are
// carried through as opaque characters. The steps live in their own files here: chars (folding),
// normalize (leetspeak, stretched letters), tokens, language, sentiment, profanity, mask; lexicon and
// lexicon_file load the lists. Each Tagger has a version (version()), stored with every tag it makes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/learned_model.h"
#include "analysis/severity.h"
#include "common/status.h"

namespace chatpipe {

// Bump when a change to the code changes any tag for the same word lists: it is part of version().
// The learned model's cache is keyed by it too (learned_cache.h): bump it when training changes.
// 46: an ordinary word spelled with an accent no bad form has (cágado) is that word; holdout 46 learned;
// 45: the learned model learns holdout 45 too;
// 44: a name spelled with its accent (Fodé, Maricá) is a name in any case, with another accent none;
// 43: the learned model learns holdout 44 too;
// 42: the learned model learns holdouts 42 and 43 too;
// 41: the learned model learns holdout 41 too;
// 40: the learned model learns holdout 40 too;
// 39: the learned model learns holdout 39 too;
// 38: the learned model learns holdout 38 too;
// 37: the learned model learns holdout 37 too;
// 36: the learned model learns holdout 36 too;
// 35: the learned model learns holdout 35 too;
// 34: senses.txt's emoji cues must be emoji of emoji.tsv (a game controller and a pizza are now); the
// learned model learns holdout 34 too;
// 33: a possessive in capitals ("DICK'S") is its owner's;
// 32: names marked `any` in names.txt are names in lower case and shouting too, an article two words
// before a name cues it ("a spineless dick"); one letter and three or more stars is a bad word
// ("f***"); the learned model learns holdout 33 too;
// 31: the learned model learns holdout 32 too;
// 30: the learned model learns holdout 31 too;
// 29: an emoji may be a sense's cue (senses.txt: a laughing face spares a threat); the learned model
// learns holdout 30 too;
// 28: the learned model learns holdouts 28 and 29 too;
// 27: an innocent phrase that opens with a known name is no name after a cue word ("you dick from
// accounts"); the learned model learns holdout 27 too;
// 26: the learned model learns holdout 26 too;
// 25: the learned model learns holdout 25 too;
// 24: the learned model learns holdout 24 too;
// 23: the learned model learns holdout 23 too;
// 22: the learned model learns holdout 22 and the omen development sets too;
// 21: the learned model learns holdouts 20 and 21 too;
// 20: the learned model learns holdout 19 too;
// 19: the learned model learns holdout 18 and the watching development sets too;
// 18: the learned profanity head reads a message's words again when it addresses someone ("you", "tu",
// "vc": kAddressedBlock);
// 17: the learned model's weights in 8 bits, twice the rows (2^19 and 2^18) in the same memory;
// 16: a number of two digits or more is no piece of a word in pieces ("q 1-10" is no "qlo"); the learned
// model trains 15 epochs and learns from the insult and menace development sets too;
// 15: a phrase's own term may have senses (a laugh spares a threat: "te mato kkkk"); 128 word classes;
// the learned model learns from the threat, regional and everyday development sets too;
// 14: the learned profanity head flags what the lists miss (kLearnedTerm); the names and look-alike sets
// are learned from too;
// 13: word classes and named terms in phrases; of the phrases from a word, the longest wins; a threat
// makes the label negative; the learned label learns from the read holdouts too;
// 12: names after a title or beside a particle, names in a message all in capitals (of more than one
// word), cue words by language, a bad word's 's ("hell's");
// 11: the learned label's character n-grams are 3- to 5-grams (2-grams cost a fifth of the time for nothing);
// 10: senses (senses.txt: a word of the message shows a bad word's innocent sense);
// 9: the learned label's features (character 5-grams, word pairs, blocks scaled apart, 2^18 16-bit rows),
// possessives of names ("Dick's") spared;
// 8: the learned label trained in float; 7: evidence dropout in the learned label's training, scope ends (scope_ends.txt); 6: the learned
// sentiment label; 5: sentiment (questions, swearing, boosters after a word); 4: phrases, names,
// contractions; 3: levels
inline constexpr const char* kTaggerCodeVersion = "46";

// What the caller knows beyond the text.
struct TagOptions {
  // Which levels Tags::masked hides: a room may mask strong words and let mild ones through.
  bool mask_mild = true;
  bool mask_strong = true;
  // People's names that are never profanity in this message, whatever they look like: the author's own
  // name (a user called "Dick" or "Concha"). Compared after folding case and accents; whole tokens only.
  std::vector<std::string_view> names;
  // The sentiment label from the learned model (true) or from the lexicon's score alone (false).
  bool learned_sentiment = true;
  // A message the word lists find clean is profane when the learned model's profanity head is sure of it
  // (true), or the lists alone decide (false).
  bool learned_profanity = true;
};

// The term of a message only the learned model finds profane (analysis::LearnedProfane): there is no
// word to name. Its level is the one the model finds likelier.
inline constexpr const char* kLearnedTerm = "learned";

struct Tags {
  std::string lang;             // "es", "pt" or "en"
  std::string sentiment_label;  // "positive", "negative" or "neutral"
  // The lexicon's score, in [-1, 1], rounded to 3 decimals. With the learned label its sign may disagree
  // with the label (the model overrules the lexicon): it says how strongly the lexicon's words lean.
  double sentiment_score = 0;
  bool profane = false;         // level != kNone
  Severity level = Severity::kNone;  // the highest level among the bad words
  std::vector<std::string> terms;  // base terms found ("fuuuck" gives "fuck"), in order, no repeats
  std::vector<Severity> term_levels;  // the level of each of terms
  // The text with each bad word of a level TagOptions masks replaced, its characters but its first by
  // '*', one '*' per character ("mierda" gives "m*****"); separators inside a word and every other byte
  // stay as they were. The text itself when no such word was found.
  std::string masked;
  bool any_masked = false;  // masked differs from the text
};

class Tagger {
 public:
  // Reads the word lists in data_dir; fails naming the file and line that could not be used.
  static Result<std::unique_ptr<Tagger>> Load(const std::string& data_dir);
  ~Tagger();

  Tags Analyze(std::string_view text, const TagOptions& options = {}) const;

  // 12 hex digits of the SHA-256 of the word lists' (and development sets') contents and
  // kTaggerCodeVersion: the same version, the same tags for the same text.
  const std::string& version() const;

  // k-fold cross-validation of the learned model with `settings` on the development sets: per language,
  // the sentiment macro-F1 of the lexicon's labels and of the model's, and the profanity F1 of the lists
  // and of the lists with the model's profanity head (for the accuracy test and tuning; zeros when the
  // sets cannot be read again).
  analysis::CrossValidation CrossValidateLearned(const analysis::LearnedSettings& settings, int folds) const;

 private:
  struct Data;
  explicit Tagger(std::unique_ptr<const Data> data);
  std::unique_ptr<const Data> data_;
};

// {"lang":..,"sentiment":{"label":..,"score":..},
//  "profanity":{"flagged":..,"level":..,"terms":[..],"levels":[..][,"masked":..]}}: "level" none, mild or
// strong; "levels"[i] is the level of "terms"[i]; "masked" only when it differs from the text. Bytes of
// `masked` that are not valid UTF-8 are written as U+FFFD so that the JSON stays valid.
std::string TagsToJson(const Tags& tags);

// The "masked" text of tags JSON (as TagsToJson writes it) that flag profanity; nullopt when they do
// not, or when the JSON is not such tags.
std::optional<std::string> FlaggedMaskedText(std::string_view tags_json);

// Where the word lists are: $CHATPIPE_TAG_DATA if set, else the source tree's analysis/data.
std::string DefaultTagDataDir();

}  // namespace chatpipe
