#include "analysis/chars.h"

namespace chatpipe::analysis {

Char DecodeMultibyte(std::string_view s, size_t i) {
  const Utf8Char u = DecodeUtf8Multibyte(s, i);
  if (!u.valid()) return {u.cp, 1, {kOpaque}};
  return {u.cp, u.len, Classify(u.cp)};
}

std::string FoldWord(std::string_view w) {
  std::string out(w.size(), '\0');
  char* end = out.data();
  for (size_t i = 0; i < w.size();) {
    const Char c = Decode(w, i);
    end = Fold(c, w.data() + i, end);
    i += c.len;
  }
  out.resize(end - out.data());
  return out;
}

}  // namespace chatpipe::analysis
