#include "analysis/test_lexicon.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "analysis/tagger.h"

namespace chatpipe::analysis::testing {

const Loaded& Lists() {
  static const Loaded* loaded = [] {
    auto* l = new Loaded;
    LexiconReader reader(DefaultTagDataDir());
    Status st = l->lexicon.LoadWords(reader);
    if (st.ok()) st = l->profanity.Load(reader);
    if (st.ok()) st = l->lexicon.LoadAllowList(reader);
    if (!st.ok()) {
      ADD_FAILURE() << st.ToString();
      std::abort();
    }
    l->profanity.Link(&l->lexicon);
    return l;
  }();
  return *loaded;
}

ScanStats Tokenise(std::string_view text, Scratch* s, bool profanity) {
  const Loaded& l = Lists();
  ScanStats st;
  s->tokens.clear();
  Scan(l.lexicon, text, s, &st);
  if (profanity) {
    l.profanity.FindBadWords(l.lexicon, text, s);
    bool ambiguous;
    l.profanity.Allow(l.lexicon, DetectLanguage(l.lexicon, s->tokens, st.hints, &ambiguous), text, st, s);
  }
  return st;
}

}  // namespace chatpipe::analysis::testing
