#include "analysis/mask.h"

#include "analysis/steps.h"

#include "common/utf8.h"

namespace chatpipe {
namespace {

// Appends text[begin, end) with one '*' per character, after its first character when keep_first.
void AppendMasked(std::string_view text, size_t begin, size_t end, bool keep_first, std::string* out) {
  size_t i = begin;
  if (keep_first && i < end) {
    const size_t len = DecodeUtf8(text, i).len;
    out->append(text.substr(i, len));
    i += len;
  }
  for (; i < end; i += DecodeUtf8(text, i).len) {
    CHATPIPE_STEPS(1);
    out->push_back('*');
  }
}

}  // namespace

std::string MaskTerm(std::string_view term) {
  std::string out;
  AppendMasked(term, 0, term.size(), true, &out);
  return out;
}

namespace analysis {

std::string MaskText(std::string_view text, const std::vector<Token>& tokens) {
  std::string out;
  out.reserve(text.size());
  CHATPIPE_STEPS(text.size() + tokens.size());  // the bytes copied, the tokens looked at
  size_t pos = 0;
  bool masking = false;  // the word whose pieces these are is to be masked
  for (const Token& t : tokens) {
    if (t.bad >= 0 || t.mask) masking = t.mask;
    else if (!t.absorbed) continue;
    if (!masking) continue;
    out.append(text.substr(pos, t.begin - pos));
    AppendMasked(text, t.begin, t.end, !t.absorbed, &out);
    pos = t.end;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace analysis
}  // namespace chatpipe
