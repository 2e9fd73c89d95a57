#include "analysis/normalize.h"

#include "analysis/steps.h"

namespace chatpipe::analysis {

bool Squeeze(std::string_view word, bool one_is_l, Squeezed* out) {
  out->size = 0;
  bool letter = false;
  for (char raw : word) {
    CHATPIPE_STEPS(1);
    letter |= (raw >= 'a' && raw <= 'z');
    if (!out->Push(Unleet(raw, one_is_l))) return false;
  }
  return letter;
}

bool HasRun(std::string_view w) {
  CHATPIPE_STEPS(w.size());
  for (size_t i = 1; i < w.size(); ++i)
    if (w[i] == w[i - 1]) return true;
  return false;
}

std::string_view CutRuns(std::string_view w, size_t keep, char* buf) {
  CHATPIPE_STEPS(w.size());
  size_t n = 0, run = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    run = (i > 0 && w[i] == w[i - 1]) ? run + 1 : 1;
    if (run <= keep) buf[n++] = w[i];
  }
  return {buf, n};
}

bool IsLaugh(std::string_view w) {
  CHATPIPE_STEPS(3 * w.size());  // at most three passes
  if (w.size() < 3) return false;
  if (w.find_first_not_of('k') == std::string_view::npos) return true;
  if (w.size() < 4) return false;
  bool rs = true;
  for (size_t i = 0; i < w.size() && rs; ++i) rs = w[i] == (i % 2 ? 's' : 'r');
  if (rs) return true;
  // One consonant (j or h) alternating with one vowel (a, e or i).
  char consonant = 0, vowel = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    const char c = w[i];
    const bool is_vowel = c == 'a' || c == 'e' || c == 'i';
    const bool is_consonant = c == 'j' || c == 'h';
    if (!is_vowel && !is_consonant) return false;
    if (i > 0 && is_vowel == (w[i - 1] == vowel)) return false;
    char& seen = is_vowel ? vowel : consonant;
    if (seen && seen != c) return false;
    seen = c;
  }
  return consonant != 0;
}

}  // namespace chatpipe::analysis
