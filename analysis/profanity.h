// Profanity: the bad-word lists (profanity_*.txt) and the matching of a message's tokens against them.
//
// Matching is on whole folded tokens after undoing leetspeak: a word whose squeezed letters equal a
// form's, each run at least as long as the form's ("fuuuck", "asss"; not "as" for "ass"), or that
// carries an affix form ("*fuck*" anywhere, "mierd*" at the start, "*shit" at the end); a
// self-censored word ("f*ck"); or a word split into tokens ("p.u.t.a", "f u c k", "mier.da"). The
// allow-list (Lexicon) spares innocent words, in some languages only ("porra" in Spanish). Each base
// term has a level (severity.h), from its line in the lists.
//
// Three rules look at a word's neighbours, each over whole tokens in one pass (names.txt,
// profanity_phrases.txt and senses.txt, analysis/data/README.md):
// - Phrases: a run of words that is bad only together ("hijo de puta", "kill yourself", "tô puto") is
//   one term of its own level, whatever its words are alone; it wins over the allow-list. A phrase may
//   name a class of words in place of a word ("ill @harm your @body"), so that one line holds a threat
//   with any of its verbs and targets.
// - Names: a Capitalised token that is a known name or place ("Dick", "Twatt") is no bad word, unless
//   the word before it is a cue, in the message's language, that the name is used as an insult ("you
//   Dick", "such a Dick", "eres un Pico"; Spanish "a Dick" is no cue), or an article is two before it
//   ("a spineless Dick"), or it opens the message and is a name marked `mid` ("Fucking" the village,
//   mid-sentence only: "Fucking hell" opens a message as a swear). ALL-CAPS is shouting, except in a
//   message all in capitals, where it is as Capitalised. A name marked `any` is a name in lower case
//   and in shouting too ("ask dick if he has the drill": in chat "dick" is a man five times for each
//   insult, and the insult comes with a cue). After a title or beside a particle ("Mrs fagg", "DICK VAN
//   DYKE") a known name is a name in any case. A name's possessive ("Dick's") is the name.
// - Senses: a bad word that has an innocent sense is no bad word when another word (or an emoji) of
//   the message shows that sense ("the bitch had six puppies", "el cabrón se escapó del rebaño", "te
//   mato 😂").
// Built once by Load and Link, then only read.
#pragma once

#include <bitset>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "analysis/lexicon.h"
#include "analysis/lexicon_file.h"
#include "analysis/normalize.h"
#include "analysis/pair_filter.h"
#include "analysis/severity.h"
#include "analysis/string_table.h"
#include "analysis/tokens.h"
#include "common/status.h"

namespace chatpipe::analysis {

class Profanity {
 public:
  struct Match {
    int base = -1;  // id of the bad base term (Base), -1 when the candidate is clean
    int word = -1;  // the lexicon word it reads as in sentiment: "a$$hole" is "asshole"; -1 if unknown
  };

  // profanity_{en,es,pt}.txt: a level (mild or strong), a base term, then its forms;
  // profanity_phrases.txt: a level, then the words of a phrase; names.txt: names and cue words;
  // senses.txt: bad words with an innocent sense, and the words that show it.
  Status Load(LexiconReader& reader);
  // Once the lexicon is complete: which word each form reads as, and which known words are bad. Adds
  // the words of phrases and names to the lexicon, so that a token's word id says whether it is one.
  void Link(Lexicon* lexicon);
  // Fails on an emoji cue of senses.txt that the scanner never makes a token (not in emoji.tsv).
  Status CheckEmojiCues(const Lexicon& lexicon) const;

  // The bad base term a folded candidate word is, if any.
  Match MatchWord(std::string_view candidate) const;
  // Marks the bad words among s->tokens: whole tokens, then words in pieces (absorbing the later
  // pieces). Words allowed in only some languages are marked too, until Allow.
  void FindBadWords(const Lexicon& lexicon, std::string_view text, Scratch* s) const;
  // Unmarks the words the allow-list spares in lang, the names (text is the scanned message: a name
  // is Capitalised), the ordinary words spelled with their accents ("cágado") and the words whose
  // innocent sense another word shows, then marks the phrases.
  // st is the scan's: a message with a lower-case letter, or of one word, shouts its ALL-CAPS words.
  void Allow(const Lexicon& lexicon, int lang, std::string_view text, const ScanStats& st, Scratch* s) const;

  std::string_view Base(int id) const { return bases_.Key(id); }
  Severity Level(int id) const { return levels_[id]; }
  // Whether the term makes its message's sentiment negative (a threat, an incitement to self-harm).
  bool Hostile(int id) const { return hostile_[id]; }
  int bases() const { return bases_.size(); }

 private:
  struct Form {
    std::string folded;
    std::string runs;  // run lengths of its squeezed letters: "ass" needs two s
    Match match;
  };
  struct Affix {
    std::string core;     // squeezed
    bool prefix, suffix;  // core must start / end the word; neither: anywhere inside it
    Match match;
    uint32_t letters;     // LetterSet(core): a word that lacks one of them cannot hold it
  };

  // A bad run of words: every token of it gets `base`.
  struct Phrase {
    int base;     // -1 for an innocent phrase, which unmarks its words ("bloody nose")
    std::vector<std::string> folded;  // its words until Link; "@name" for a class
    std::vector<int> words;           // their lexicon ids, from Link; a class c is -1 - c
    int line = 0;  // its place in the file (a phrase opening with a class: each of its words' in turn)
  };
  // What a lexicon word is to the rules on neighbours, by lexicon id (names.txt, profanity_phrases.txt).
  enum WordRole : uint16_t {
    kName = 1,
    kNameMidOnly = 2,
    kStartsPhrase = 4,
    kSenseCue = 8,
    kTitle = 16,     // Mr, Sra, Dona: a known name after it is a name in any case
    kParticle = 32,  // van, von: likewise beside it
    kCue = 64,       // kCue << lang: a cue word in that language
    kNameAnyCase = 512,  // a name in lower case too ("ask dick"), unless cued as an insult
    kArticle = 1024,     // kArticle << lang: an article two words before a name cues it ("a spineless Dick")
    kNameAccented = 8192,  // a name spelled with an accent no form of the bad word has (Fodé, Maricá)
    kWordAccented = 16384,  // likewise an ordinary word (Brazil's cágado, a turtle, against "cagado")
  };

  static constexpr size_t kMaxAffixes = 64;  // forms with '*' in all the lists
  static constexpr int kMaxSenses = 64;      // lines of senses.txt: one bit each
  static constexpr int kMaxClasses = 128;    // word classes of profanity_phrases.txt: one bit each
  struct JoinTrace;

  Status LoadTerms(LexiconReader& reader);
  Status LoadPhrases(LexiconReader& reader);
  Status LoadClass(const Fields& f);
  bool PhraseHas(const Phrase& p, size_t k, int word) const;
  Status LoadNames(LexiconReader& reader);
  Status LoadSenses(LexiconReader& reader);
  Status AddBase(std::string_view level, std::string_view base, int* id);
  Match MatchOwner(std::string_view text, const Scratch& s, const Token& t) const;
  bool IsSparedName(int lang, std::string_view text, const ScanStats& st, const Scratch& s, size_t i, int word) const;
  bool CuedAsInsult(int lang, const std::vector<Token>& tokens, size_t i) const;
  int AccentedSpelling(std::string_view text, const Token& t, int word) const;
  uint16_t RoleOf(const Token& t) const;
  uint64_t SensesShown(std::string_view text, const Scratch& s) const;
  int PossessiveOf(const Lexicon& lexicon, std::string_view text, const Scratch& s, const Token& t) const;
  int PhraseWord(const Lexicon& lexicon, const Scratch& s, const Token& t) const;
  void MarkPhrases(const Lexicon& lexicon, int lang, std::string_view text, Scratch* s,
                   std::optional<uint64_t>* shown) const;
  void Add(std::string_view form, int base);
  Match MatchKey(int key, const uint8_t* runs, size_t size, uint8_t last_run) const;
  std::pair<std::vector<int>::const_iterator, std::vector<int>::const_iterator> FormsFrom(size_t size, char c) const;
  Match MatchWild(std::string_view candidate) const;
  int MatchStarred(std::string_view text, const Scratch& s, int lang, Token* t) const;
  Match MatchJoin(std::string_view join, const size_t* ends, size_t n, size_t* last) const;
  Match MatchTraced(const JoinTrace& t, size_t j) const;
  bool Linked(std::string_view text, const Scratch& s, size_t a) const;

  std::vector<Form> forms_;
  StringTable keys_;                      // squeezed forms
  StringTable key_prefixes_;              // every prefix of every key: a join that is none cannot grow into one
  std::vector<std::vector<int>> by_key_;  // keys_ id to indexes in forms_
  std::vector<int> by_size_[kMaxBadLength + 1];  // indexes in forms_ by folded size, then first byte
  std::vector<Affix> affixes_;
  StringTable bases_;
  std::vector<Severity> levels_;  // by base id
  std::vector<uint8_t> base_langs_;  // by base id: bit lang set where a list of lang has it
  std::vector<bool> hostile_;     // by base id: named on the `negative` line of profanity_phrases.txt
  std::vector<Phrase> phrases_;   // by first word id, from Link
  std::vector<std::pair<std::string, uint16_t>> roles_;  // folded word, WordRole bits, until Link
  std::vector<uint16_t> role_;    // lexicon id to WordRole bits, from Link
  // The kNameAccented names' and kWordAccented words' spellings in lower case, accents kept, by folded
  // word until Link, by lexicon id after it. A handful: a token reads them only when it folds to one.
  std::vector<std::pair<std::string, std::u32string>> accented_words_;
  std::vector<std::pair<int, std::u32string>> accented_;
  // The phrases a word starts (kStartsPhrase), by lexicon id: those of one word or with a class second
  // from first, then from paired on those whose second word is a word, which match only a pair that
  // phrase_pairs_ holds.
  struct PhraseRange {
    int first = 0, paired = 0;
  };
  std::vector<PhraseRange> phrases_from_;
  PairFilter phrase_pairs_;  // the first two words of every phrase from paired on
  StringTable class_names_;                               // of the word classes, by class index
  std::vector<std::pair<std::string, int>> class_words_;  // folded word, its class, until Link
  std::vector<std::bitset<kMaxClasses>> classes_of_;  // lexicon id to the classes it is in, from Link
  std::vector<int> sense_of_;      // base id to its line of senses.txt, -1 if it has none
  std::vector<std::pair<std::string, uint64_t>> sense_cues_;  // folded cue, the senses it shows, until Link
  std::unordered_map<int, uint64_t> cue_senses_;              // lexicon id of a cue to the senses it shows
  std::vector<std::pair<char32_t, uint64_t>> emoji_cues_;     // an emoji cue ("😂"), the senses it shows
};

}  // namespace chatpipe::analysis
