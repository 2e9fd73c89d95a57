#include "analysis/worst_texts.h"

namespace chatpipe::analysis {
namespace {

// unit repeated to `chars` characters (unit_chars each), then tail.
std::string Repeat(const std::string& unit, size_t unit_chars, size_t chars, const std::string& tail = "",
                   size_t tail_chars = 0) {
  std::string out;
  for (size_t n = 0; n + unit_chars + tail_chars <= chars; n += unit_chars) out += unit;
  return out + tail;
}

}  // namespace

std::vector<WorstText> WorstTexts(size_t chars) {
  // Short bad words and innocent ones, each different, so that every term is new to the message.
  std::string words;
  for (size_t k = 0; words.size() + 16 < chars; ++k) words += (k % 2 ? "fuck" : "mierda") + std::to_string(k % 7) + " ";
  return {
      {"^ run, then a letter", Repeat("^", 1, chars, "a", 1)},
      {"^^_ repeated", Repeat("^^_", 3, chars, "a", 1)},
      {": run, then a letter", Repeat(":", 1, chars, "a", 1)},
      {":) repeated", Repeat(":)", 2, chars)},
      {"=) glued to words", Repeat("a=)))", 5, chars, "a", 1)},
      {"@ run", Repeat("@", 1, chars)},
      {"@name repeated", Repeat("@a ", 3, chars)},
      {"distinct @names", [&] {
         std::string s;
         for (size_t k = 0; s.size() + 8 < chars; ++k) s += "@u" + std::to_string(k) + " ";
         return s;
       }()},
      {"# run", Repeat("#", 1, chars)},
      {"distinct #rooms", [&] {
         std::string s;
         for (size_t k = 0; s.size() + 8 < chars; ++k) s += "#r" + std::to_string(k) + " ";
         return s;
       }()},
      {"combining marks", "a" + Repeat("\xCC\x81", 1, chars - 1)},
      {"one letter repeated", Repeat("a", 1, chars)},
      {"stretched bad word", "fu" + Repeat("u", 1, chars - 4) + "ck"},
      {"long word, leet", Repeat("a1$", 3, chars)},
      {"long pieces, dotted", Repeat("aaaaaaa1.", 9, chars)},
      {"letters, spaced", Repeat("a ", 2, chars)},
      {"letters, starred", Repeat("a*", 2, chars)},
      {"bad words, many", words},
      {"alternating scripts", Repeat("a\xD1\x8F", 2, chars)},
      {"letters and emoji", Repeat("a\xF0\x9F\x98\x80", 2, chars)},
      {"emoji", Repeat("\xF0\x9F\x98\x80", 1, chars)},
      {"apostrophes", Repeat("a'", 2, chars)},
      {"invalid UTF-8", Repeat("\xFF", 1, chars)},
      {"idiom starts", Repeat("de puta ", 8, chars)},
      {"negations", Repeat("no ", 3, chars)},
      {"phrase starts", Repeat("te voy a ", 9, chars)},  // a phrase's first three words, again and again
      {"phrase words, leet", Repeat("h1j0 d3 ", 8, chars)},
      {"names after cues", Repeat("you Dick ", 9, chars)},
  };
}

}  // namespace chatpipe::analysis
