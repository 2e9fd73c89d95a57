// Profanity: the bad-word lists (profanity_*.txt) and the matching of a message's tokens against them.
//
// Matching is on whole folded tokens after undoing leetspeak: a word whose squeezed letters equal a
// form's, each run at least as long as the form's ("fuuuck", "asss"; not "as" for "ass"), or that
// carries an affix form ("*fuck*" anywhere, "mierd*" at the start, "*shit" at the end); a
// self-censored word ("f*ck"); or a word split into tokens ("p.u.t.a", "f u c k", "mier.da"). The
// allow-list (Lexicon) spares innocent words, in some languages only ("porra" in Spanish). Built once
// by Load and Link, then only read.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "analysis/lexicon.h"
#include "analysis/lexicon_file.h"
#include "analysis/normalize.h"
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

  // profanity_{en,es,pt}.txt: a base term, then its forms.
  Status Load(LexiconReader& reader);
  // Once the lexicon is complete: which word each form reads as, and which known words are bad.
  void Link(Lexicon* lexicon);

  // The bad base term a folded candidate word is, if any.
  Match MatchWord(std::string_view candidate) const;
  // Marks the bad words among s->tokens: whole tokens, then words in pieces (absorbing the later
  // pieces). Words allowed in only some languages are marked too, until Allow.
  void FindBadWords(const Lexicon& lexicon, std::string_view text, Scratch* s) const;
  // Unmarks the words the allow-list spares in lang.
  void Allow(const Lexicon& lexicon, int lang, Scratch* s) const;

  std::string_view Base(int id) const { return bases_.Key(id); }
  Severity Level(int id) const { return levels_[id]; }
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
  };

  static constexpr size_t kMaxAffixes = 64;  // forms with '*' in all the lists
  struct JoinTrace;

  void Add(std::string_view form, int base);
  Match MatchKey(int key, const uint8_t* runs, size_t size, uint8_t last_run) const;
  Match MatchWild(std::string_view candidate) const;
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
};

}  // namespace chatpipe::analysis
