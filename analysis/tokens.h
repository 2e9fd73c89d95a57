// Tokenising one message: the text becomes word tokens, each folded (chars.h) into Scratch::fold and
// looked up in the lexicon, and emoji/emoticon tokens with their valence; ScanStats gathers what the
// later steps need from the whole text (lower-case letters seen, '!' count, language hints).
// Scratch is one message's working state, reused by a thread from message to message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/language.h"

namespace chatpipe::analysis {

class Lexicon;

struct Token {
  uint32_t begin, end;            // bytes of the text
  uint32_t fold_begin, fold_end;  // bytes of Scratch::fold
  int32_t word = -1;              // id in the lexicon (for a bad word, the form it matched), or -1
  int32_t bad = -1;               // id of the bad base term this token starts, or -1
  float emoji = 0;                // valence of an emoji or emoticon
  bool is_emoji = false;
  bool exact = false;         // `word` is the token itself, not a squeezed variant ("buenooo")
  bool caps = false;          // two or more letters, all upper case
  bool clause_start = false;  // a clause ended between the previous token and this one
  bool absorbed = false;      // a later piece of a bad word begun by an earlier token ("u" in "f u c k")
  bool question = false;      // a '?' ends the sentence (text up to . ! ? or a new line) this token is in
  bool mask = false;          // a bad word (its first piece) of a level the caller masks
  uint16_t letters = 0;
};

// One word's, idiom's or emoji's contribution to sentiment.
struct SentimentItem {
  double v;
  bool question;  // its sentence is a question
  bool swear;     // it is a bad word: swearing does not decide the feeling
};

struct Scratch {
  std::string fold;  // folded words, back to back; its size is only an upper bound on what is used
  std::vector<Token> tokens;
  std::vector<SentimentItem> items;  // sentiment's
  std::string join;           // profanity's candidate of glued tokens

  std::string_view Folded(const Token& t) const {
    return std::string_view(fold).substr(t.fold_begin, t.fold_end - t.fold_begin);
  }
};

struct ScanStats {
  bool has_lower = false;
  int words = 0;  // word tokens (emoji and emoticons are not)
  int exclaims = 0;
  double hints[kLangs] = {};  // letters and marks that belong to one language: ñ ¿ ¡ / ã õ ç
};

// Appends text's tokens to s->tokens (which the caller clears).
void Scan(const Lexicon& lexicon, std::string_view text, Scratch* s, ScanStats* st);

}  // namespace chatpipe::analysis
