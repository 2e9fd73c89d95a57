#include "analysis/tokens.h"

#include <cctype>

#include "analysis/chars.h"
#include "analysis/lexicon.h"
#include "analysis/steps.h"

namespace chatpipe::analysis {

void Scan(const Lexicon& lexicon, std::string_view text, Scratch* s, ScanStats* st) {
  if (s->fold.size() < text.size()) s->fold.resize(text.size());  // folding never grows text
  char* const fold = s->fold.data();
  char* out = fold;
  Token cur;
  bool in_word = false;
  bool clause = false;
  uint16_t uppers = 0;
  RunCache runs;
  size_t sentence = s->tokens.size();  // the first token of the sentence read so far
  auto end_sentence = [&](bool question) {
    for (; sentence < s->tokens.size(); ++sentence) {
      CHATPIPE_STEPS(1);
      s->tokens[sentence].question = question;
    }
  };
  auto end_word = [&](size_t at) {
    if (!in_word) return;
    cur.end = static_cast<uint32_t>(at);
    cur.fold_end = static_cast<uint32_t>(out - fold);
    cur.caps = cur.letters >= 2 && uppers == cur.letters;
    cur.word = lexicon.LookupWord(s->Folded(cur), &cur.exact);
    s->tokens.push_back(cur);
    ++st->words;
    in_word = false;
  };
  for (size_t i = 0; i < text.size();) {
    CHATPIPE_STEPS(1);
    const Char c = Decode(text, i);
    switch (c.info.kind) {
      case kLetter:
      case kDigit:
      case kLeet:
      case kOpaque:
        if (!in_word) {
          cur = Token{};
          cur.begin = static_cast<uint32_t>(i);
          cur.fold_begin = static_cast<uint32_t>(out - fold);
          cur.clause_start = clause;
          clause = false;
          uppers = 0;
          in_word = true;
        }
        out = Fold(c, text.data() + i, out);
        if (c.info.kind == kLetter) {
          if (cur.letters < UINT16_MAX) ++cur.letters;
          if (c.info.upper) ++uppers;
          else st->has_lower = true;
          if (c.len > 1) LanguageHint(c.cp, st->hints);
        }
        // The rest of the word while it is plain ASCII, without the general dispatch.
        for (i += c.len; i < text.size(); ++i) {
          CHATPIPE_STEPS(1);
          const auto b = static_cast<unsigned char>(text[i]);
          if (b >= 0x80) break;
          const CharInfo& a = AsciiInfo(b);
          if (a.kind != kLetter && a.kind != kDigit && a.kind != kLeet) break;
          *out++ = a.fold;
          if (a.kind == kLetter) {
            if (cur.letters < UINT16_MAX) ++cur.letters;
            if (a.upper) ++uppers;
            else st->has_lower = true;
          }
        }
        continue;
      case kMark:
        break;  // an accent written apart is still part of its letter
      case kApostrophe:
        // Inside a word it is dropped: "don't" reads as "dont", "sh'it" as "shit".
        if (in_word && i + c.len < text.size() && Decode(text, i + c.len).info.kind == kLetter) break;
        end_word(i);
        break;
      case kSpace:
        end_word(i);
        clause |= c.cp == '\n';
        if (c.cp == '\n') end_sentence(false);
        break;
      case kPunct: {
        end_word(i);
        float v = 0;
        size_t len = 0;
        if (c.cp >= 0x2000) {
          if (lexicon.EmojiValence(c.cp, &v)) len = c.len;
        } else if (lexicon.MayStartEmoticon(c.cp)) {
          len = lexicon.MatchEmoticon(text, i, &v, &runs);
        }
        if (len > 0) {
          Token e;
          e.begin = static_cast<uint32_t>(i);
          e.end = static_cast<uint32_t>(i + len);
          e.fold_begin = e.fold_end = static_cast<uint32_t>(out - fold);
          e.is_emoji = true;
          e.emoji = v;
          e.clause_start = clause;
          clause = false;
          s->tokens.push_back(e);
          i += len;
          continue;
        }
        if (c.cp == '!') ++st->exclaims;
        // A '?' glued to what follows is no question mark ("watch?v=1" in a link).
        if (c.cp == '?' || c.cp == '.' || c.cp == '!')
          end_sentence(c.cp == '?' && (i + 1 == text.size() || !std::isalnum(static_cast<unsigned char>(text[i + 1]))));
        LanguageHint(c.cp, st->hints);
        clause |= c.info.clause;
        break;
      }
    }
    i += c.len;
  }
  end_word(text.size());
}

}  // namespace chatpipe::analysis
