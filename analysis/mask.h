// Masking bad words: each character of a bad word but its first becomes one '*' ("mierda" gives
// "m*****", "cabrón" gives "c*****"); the later pieces of a word written apart are starred whole
// ("p.u.t.a" gives "p.*.*.*"); separators between pieces and every other byte stay as they were.
// Ingress masks a `mask` room's text and terms with these, so that no client sees the original.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "analysis/tokens.h"

namespace chatpipe {

// One character of a term shown, the rest starred, as the text is masked ("mierda" -> "m*****").
std::string MaskTerm(std::string_view term);

namespace analysis {

// The text with each word that is to be masked (Token::mask: a bad word, or every word of a message the
// learned model flagged; and the pieces it absorbed) masked.
std::string MaskText(std::string_view text, const std::vector<Token>& tokens);

}  // namespace analysis
}  // namespace chatpipe
