#include "workers/tag/tagger.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>

namespace chatpipe {
namespace {

constexpr int kLangs = 3;
enum Lang : int { kEn, kEs, kPt };
constexpr const char* kLangCodes[kLangs] = {"en", "es", "pt"};

// VADER's constants (Hutto & Gilbert, 2014), kept so that scores read like VADER's.
constexpr double kNegationScalar = -0.74;  // "not good" is milder than "bad"
constexpr double kCapsBoost = 0.733;
constexpr double kExclaimBoost = 0.292;
constexpr int kMaxExclaims = 4;
constexpr double kAlpha = 15;  // score = x / sqrt(x² + alpha)
constexpr double kNeutralBand = 0.05;
constexpr int kWindow = 3;  // words looked back for negations and boosters
constexpr double kWindowDecay[kWindow] = {1.0, 0.95, 0.9};
constexpr double kBeforeContrast = 0.5;
constexpr double kAfterContrast = 1.5;

constexpr size_t kMaxBadLength = 48;  // no bad word is longer, even stretched
constexpr int kMaxJoin = 12;          // tokens glued into one candidate ("f u c k") at most

// ---------------------------------------------------------------------------------------------
// Characters. Everything below U+0180 is classified by table; ñ folds apart from n because
// "año" is not "ano" and "coño" is not "cono".

enum Kind : uint8_t { kSpace, kPunct, kLetter, kDigit, kLeet, kApostrophe, kMark, kOpaque };
constexpr char kEnye = '\x01';  // the fold of ñ and Ñ; written back as "ñ"

struct CharInfo {
  Kind kind = kPunct;
  char fold = 0;  // lower-case base letter of a letter
  bool upper = false;
  bool clause = false;  // ends a clause: negation and boosters do not reach across it
};

struct CharTable {
  CharInfo c[0x180];
};

constexpr bool IsOneOf(char c, const char* set) {
  for (; *set; ++set)
    if (*set == c) return true;
  return false;
}

// Base letters of U+0100..U+017F (Ā ā Ă ă ... ž ſ).
constexpr char kLatinA[] =
    "aaaaaa" "cccccccc" "dddd" "eeeeeeeeee" "gggggggg" "hhhh" "iiiiiiiiii" "ii" "jj" "kkk" "llllllllll"
    "nnnnnnnnn" "oooooo" "oo" "rrrrrr" "ssssssss" "tttttt" "uuuuuuuuuuuu" "ww" "yyy" "zzzzzz" "s";
static_assert(sizeof(kLatinA) == 0x80 + 1);

constexpr CharTable BuildCharTable() {
  CharTable t{};
  for (int c = 0; c < 0x80; ++c) {
    CharInfo& i = t.c[c];
    if (c >= 'a' && c <= 'z') i = {kLetter, char(c), false, false};
    else if (c >= 'A' && c <= 'Z') i = {kLetter, char(c - 'A' + 'a'), true, false};
    else if (c >= '0' && c <= '9') i = {kDigit, char(c), false, false};
    else if (c == '@' || c == '$') i = {kLeet, char(c), false, false};
    else if (c == '\'') i.kind = kApostrophe;
    else if (c <= ' ' || c == 0x7f) i.kind = kSpace;
    i.clause = c == '\n' || IsOneOf(char(c), ".,;:!?()");
  }
  t.c[0xA0].kind = kSpace;  // no-break space; the rest of U+0080..U+00BF is punctuation
  // U+00C0..U+00FF. '.' marks × and ÷; 'N' marks Ñ/ñ.
  const char* latin1 = "aaaaaaaceeeeiiiidNooooo.ouuuuyts" "aaaaaaaceeeeiiiidNooooo.ouuuuyty";
  for (int k = 0; k < 64; ++k) {
    const int cp = 0xC0 + k;
    const char f = latin1[k];
    if (f == '.') continue;
    t.c[cp] = {kLetter, f == 'N' ? kEnye : f, cp < 0xDF, false};
  }
  // U+0100..U+017F, Latin Extended-A: letters in upper/lower pairs.
  for (int k = 0; k < 0x80; ++k) {
    const int cp = 0x100 + k;
    bool upper;
    if (cp <= 0x137) upper = cp % 2 == 0;
    else if (cp <= 0x148) upper = cp != 0x138 && cp % 2 == 1;
    else if (cp <= 0x177) upper = cp != 0x149 && cp % 2 == 0;
    else upper = cp == 0x178 || (cp <= 0x17E && cp % 2 == 1);
    t.c[cp] = {kLetter, kLatinA[k], upper, false};
  }
  return t;
}

constexpr CharTable kChars = BuildCharTable();

struct Char {
  uint32_t cp;  // the code point, or the byte itself when it is not valid UTF-8
  uint32_t len;
  CharInfo info;
};

CharInfo Classify(uint32_t cp) {
  if (cp < 0x180) return kChars.c[cp];
  if (cp == 0x2019 || cp == 0x2018 || cp == 0x02BC) return {kApostrophe};
  if (cp >= 0x0300 && cp <= 0x036F) return {kMark};  // combining accents of decomposed text
  if ((cp >= 0x2000 && cp <= 0x200B) || cp == 0x202F || cp == 0x205F || cp == 0x3000) return {kSpace};
  if (cp == 0x2026) return {kPunct, 0, false, true};  // …
  const bool symbol = (cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) ||
                      (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF || (cp >= 0x1F000 && cp <= 0x1FAFF) ||
                      cp >= 0xE0000;
  return {symbol ? kPunct : kOpaque};  // other scripts' letters are word characters, unfolded
}

inline bool IsCont(unsigned char b) { return (b & 0xC0) == 0x80; }

// The character of s starting at a byte of 0x80 or more.
Char DecodeMultibyte(std::string_view s, size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + i;
  const size_t left = s.size() - i;
  const unsigned b0 = p[0];
  uint32_t cp = 0;
  uint32_t len = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF && left >= 2 && IsCont(p[1])) {
    cp = (b0 & 0x1F) << 6 | (p[1] & 0x3F);
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF && left >= 3 && IsCont(p[1]) && IsCont(p[2])) {
    cp = (b0 & 0x0F) << 12 | (p[1] & 0x3F) << 6 | (p[2] & 0x3F);
    len = (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) ? 3 : 0;
  } else if (b0 >= 0xF0 && b0 <= 0xF4 && left >= 4 && IsCont(p[1]) && IsCont(p[2]) && IsCont(p[3])) {
    cp = (b0 & 0x07) << 18 | (p[1] & 0x3F) << 12 | (p[2] & 0x3F) << 6 | (p[3] & 0x3F);
    len = (cp >= 0x10000 && cp <= 0x10FFFF) ? 4 : 0;
  }
  if (len == 0) return {b0, 1, {kOpaque}};
  return {cp, len, Classify(cp)};
}

inline Char Decode(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  return b < 0x80 ? Char{b, 1, kChars.c[b]} : DecodeMultibyte(s, i);
}

// Writes the folded form of c, the character at src (lower case, no accents), at out; returns
// the end of what it wrote. Never longer than c itself.
inline char* Fold(const Char& c, const char* src, char* out) {
  switch (c.info.kind) {
    case kLetter:
      if (c.info.fold != kEnye) {
        *out++ = c.info.fold;
      } else {
        *out++ = '\xC3';
        *out++ = '\xB1';
      }
      break;
    case kDigit:
    case kLeet:
      *out++ = c.info.fold;
      break;
    case kOpaque:
      out = std::copy(src, src + c.len, out);
      break;
    default:
      break;
  }
  return out;
}

// Folds a word from a data file the same way the scanner folds text.
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

// ---------------------------------------------------------------------------------------------
// StringTable: strings to dense ids, open addressing, built once and then only read.

class StringTable {
 public:
  int Find(std::string_view key) const {
    if (slots_.empty()) return -1;
    const uint32_t h = Hash(key);
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (s.hash == h && Key(s.id) == key) return s.id;
    }
  }

  int Add(std::string_view key) {
    if (int id = Find(key); id >= 0) return id;
    if ((keys_.size() + 1) * 2 > slots_.size()) Rehash(std::max<size_t>(64, slots_.size() * 2));
    const int id = static_cast<int>(keys_.size());
    keys_.push_back({static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(key.size())});
    arena_.append(key);
    Insert(Hash(key), id);
    return id;
  }

  std::string_view Key(int id) const { return std::string_view(arena_).substr(keys_[id].first, keys_[id].second); }
  int size() const { return static_cast<int>(keys_.size()); }

 private:
  struct Slot {
    uint32_t hash = 0;
    int32_t id = -1;
  };

  // Eight bytes per multiply: most words take one or two.
  static uint32_t Hash(std::string_view s) {
    const char* p = s.data();
    size_t n = s.size();
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    for (; n >= 8; p += 8, n -= 8) {
      uint64_t v;
      std::memcpy(&v, p, 8);
      h = (h ^ v) * 0xFF51AFD7ED558CCDull;
      h ^= h >> 32;
    }
    uint64_t tail = 0;
    for (size_t k = 0; k < n; ++k) tail |= uint64_t{static_cast<unsigned char>(p[k])} << (8 * k);
    h = (h ^ tail) * 0xC4CEB9FE1A85EC53ull;
    return static_cast<uint32_t>(h ^ (h >> 29));
  }

  void Insert(uint32_t h, int id) {
    const size_t mask = slots_.size() - 1;
    size_t i = h & mask;
    while (slots_[i].id >= 0) i = (i + 1) & mask;
    slots_[i] = {h, id};
  }

  void Rehash(size_t capacity) {
    slots_.assign(capacity, Slot{});
    for (int id = 0; id < size(); ++id) Insert(Hash(Key(id)), id);
  }

  std::vector<Slot> slots_;
  std::string arena_;
  std::vector<std::pair<uint32_t, uint32_t>> keys_;  // offset and length in arena_
};

// ---------------------------------------------------------------------------------------------
// Squeezing: a candidate bad word with leetspeak undone and each run of one character kept once,
// with its length: "fuuuck" is "fuck" with runs {1,3,1,1}, "a$$" is "as" with runs {1,2}.

constexpr std::array<char, 128> BuildLeet() {
  std::array<char, 128> m{};
  for (int c = 0; c < 128; ++c) m[c] = char(c);
  m['0'] = 'o', m['1'] = 'i', m['3'] = 'e', m['4'] = 'a', m['5'] = 's', m['7'] = 't';
  m['@'] = 'a', m['$'] = 's', m['!'] = 'i';
  return m;
}
constexpr std::array<char, 128> kUnleet = BuildLeet();

inline char Unleet(char c, bool one_is_l) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x80) return c;
  return (one_is_l && c == '1') ? 'l' : kUnleet[u];
}

struct Squeezed {
  char text[kMaxBadLength];
  uint8_t runs[kMaxBadLength];
  size_t size = 0;
  std::string_view view() const { return {text, size}; }
};

// False when the word cannot be a bad one: too long, or no ASCII letter at all ("2024", "$$$").
bool Squeeze(std::string_view word, bool one_is_l, Squeezed* out) {
  out->size = 0;
  bool letter = false;
  for (char raw : word) {
    letter |= (raw >= 'a' && raw <= 'z');
    const char c = Unleet(raw, one_is_l);
    if (out->size > 0 && out->text[out->size - 1] == c) {
      if (out->runs[out->size - 1] < 255) ++out->runs[out->size - 1];
      continue;
    }
    if (out->size == kMaxBadLength) return false;
    out->text[out->size] = c;
    out->runs[out->size++] = 1;
  }
  return letter;
}

// ---------------------------------------------------------------------------------------------
// One message's working state, reused by each thread from message to message.

struct Token {
  uint32_t begin, end;            // bytes of the text
  uint32_t fold_begin, fold_end;  // bytes of Scratch::fold
  int32_t word = -1;              // id in the word table (for a bad word, the form it matched), or -1
  int32_t bad = -1;               // id of the bad base term this token starts, or -1
  float emoji = 0;                // valence of an emoji or emoticon
  bool is_emoji = false;
  bool exact = false;         // `word` is the token itself, not a squeezed variant ("buenooo")
  bool caps = false;          // two or more letters, all upper case
  bool clause_start = false;  // a clause ended between the previous token and this one
  bool absorbed = false;      // a later piece of a bad word begun by an earlier token ("u" in "f u c k")
  uint16_t letters = 0;
};

struct Scratch {
  std::string fold;  // folded words, back to back; its size is only an upper bound on what is used
  std::vector<Token> tokens;
  std::vector<double> items;
  std::string join;
};

struct ScanStats {
  bool has_lower = false;
  int exclaims = 0;
  double hints[kLangs] = {};  // letters and marks that belong to one language: ñ ¿ ¡ / ã õ ç
};

void LanguageHint(uint32_t cp, ScanStats* st) {
  switch (cp) {
    case 0xF1: case 0xD1: case 0xBF: case 0xA1:  // ñ Ñ ¿ ¡
      st->hints[kEs] += 1.5;
      break;
    case 0xE3: case 0xF5: case 0xE7: case 0xC3: case 0xD5: case 0xC7:  // ã õ ç Ã Õ Ç
    case 0xEA: case 0xF4: case 0xE2: case 0xE0:                        // ê ô â à
      st->hints[kPt] += 1.5;
      break;
    default:
      break;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The loaded word lists, and the analysis that reads them.

struct Tagger::Data {
  struct WordInfo {
    float valence[kLangs] = {};
    float boost[kLangs] = {};
    uint8_t has_valence = 0;  // one bit per language, like the fields below
    uint8_t negation = 0;
    uint8_t contrast = 0;
    uint8_t stop = 0;
    uint8_t allow = 0;   // never profanity in these languages
    uint8_t phrase = 0;  // starts an idiom in these languages
    int32_t bad = -1;    // the bad base term this exact word is, -1 if none
  };
  struct Phrase {
    int lang;
    float valence;
    std::vector<int> words;
  };
  struct BadMatch {
    int base = -1;  // id in bad_bases
    int word = -1;  // the word it reads as in sentiment: "a$$hole" is "asshole", -1 if unknown
  };
  struct BadForm {
    std::string folded;
    std::string runs;  // run lengths of its squeezed letters: "ass" needs two s
    BadMatch match;
  };
  struct BadAffix {
    std::string core;     // squeezed
    bool prefix, suffix;  // core must start / end the word; neither: anywhere inside it
    BadMatch match;
  };

  StringTable words;
  std::vector<WordInfo> info;
  std::vector<Phrase> phrases;  // by first word
  int laugh_word = -1;  // "haha", what every laugh ("jajaja", "kkkk", "rsrs") reads as

  std::vector<BadForm> bad_forms;
  StringTable bad_keys;                      // squeezed forms
  std::vector<std::vector<int>> bad_by_key;  // bad_keys id to indexes in bad_forms
  std::vector<BadAffix> bad_affixes;
  StringTable bad_bases;

  std::vector<std::pair<uint32_t, float>> emoji;          // by code point, sorted
  std::vector<std::pair<std::string, float>> emoticons;  // longest first
  uint64_t emoticon_starts[2] = {};                      // ASCII characters that begin one

  // Loading.
  Status LoadAll(const std::string& dir);
  int AddWord(std::string_view raw) {
    const int id = words.Add(FoldWord(raw));
    if (id == static_cast<int>(info.size())) info.emplace_back();
    return id;
  }
  void AddBad(std::string_view form, int base);

  // Analysis.
  Tags Analyze(std::string_view text) const;
  void Scan(std::string_view text, Scratch* s, ScanStats* st) const;
  void EndToken(Token* t, Scratch* s) const;
  size_t MatchEmoticon(std::string_view text, size_t i, float* valence) const;
  int LookupWord(std::string_view w, bool* exact) const;
  int DetectLanguage(const Scratch& s, const ScanStats& st, bool* ambiguous) const;
  BadMatch MatchBad(std::string_view candidate) const;
  BadMatch MatchBadWild(std::string_view candidate) const;
  void FindBadWords(std::string_view text, Scratch* s) const;
  void Allow(int lang, Scratch* s) const;
  bool Linked(std::string_view text, const Scratch& s, size_t a) const;
  double Sentiment(Scratch* s, const ScanStats& st, int lang, bool ambiguous) const;
  bool Valence(int word, int lang, bool ambiguous, float* v) const;
  double Modify(double v, const Scratch& s, size_t at, int lang, bool has_lower) const;
  bool MatchPhrase(const Scratch& s, size_t at, int lang, float* v, size_t* last) const;
};

namespace {

// ---------------------------------------------------------------------------------------------
// Data files: whitespace-separated fields, '#' starts a comment line.

using Fields = std::vector<std::string_view>;

Status ForEachLine(const std::string& dir, const std::string& name, const std::function<Status(const Fields&)>& fn) {
  const std::string path = dir + "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Internal("tag_data", "cannot read " + path);
  std::string line;
  Fields fields;
  for (int number = 1; std::getline(in, line); ++number) {
    fields.clear();
    for (size_t i = 0; i < line.size();) {
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      size_t j = i;
      while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
      if (j > i) fields.emplace_back(line.data() + i, j - i);
      i = j;
    }
    if (fields.empty() || fields[0][0] == '#') continue;
    if (Status e = fn(fields); !e.ok())
      return Status::Internal("tag_data", path + ":" + std::to_string(number) + ": " + e.detail());
  }
  return Status::Ok();
}

Status Bad(std::string reason) { return Status::Internal("tag_data", std::move(reason)); }

Status ParseLang(std::string_view s, int* lang) {
  for (int l = 0; l < kLangs; ++l) {
    if (s == kLangCodes[l]) {
      *lang = l;
      return Status::Ok();
    }
  }
  return Bad("unknown language '" + std::string(s) + "'");
}

Status ParseNumber(std::string_view s, double lo, double hi, double* out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (ec != std::errc() || end != s.data() + s.size() || *out < lo || *out > hi)
    return Bad("'" + std::string(s) + "' is not a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return Status::Ok();
}

// "stem|a|b" is stem+a and stem+b; an empty suffix is the stem itself.
std::vector<std::string> ExpandForms(std::string_view spec) {
  const size_t bar = spec.find('|');
  if (bar == std::string_view::npos) return {std::string(spec)};
  const std::string_view stem = spec.substr(0, bar);
  std::vector<std::string> out;
  for (size_t i = bar; i != std::string_view::npos;) {
    const size_t next = spec.find('|', i + 1);
    out.push_back(std::string(stem).append(spec.substr(i + 1, next == std::string_view::npos ? next : next - i - 1)));
    i = next;
  }
  return out;
}

}  // namespace

void Tagger::Data::AddBad(std::string_view form, int base) {
  const bool prefix = form.back() == '*';    // "mierd*": starts the word
  const bool suffix = form.front() == '*';   // "*shit": ends it
  const std::string folded = FoldWord(form.substr(suffix, form.size() - suffix - prefix));
  Squeezed sq;
  Squeeze(folded, false, &sq);
  if (prefix || suffix) {
    // "*fuck*" may sit anywhere; "mierd*" must start the word; "*shit" must end it.
    bad_affixes.push_back({std::string(sq.view()), prefix && !suffix, suffix && !prefix, {base, -1}});
    return;
  }
  const int key = bad_keys.Add(sq.view());
  if (key == static_cast<int>(bad_by_key.size())) bad_by_key.emplace_back();
  bad_by_key[key].push_back(static_cast<int>(bad_forms.size()));
  bad_forms.push_back({folded, std::string(reinterpret_cast<const char*>(sq.runs), sq.size), {base, -1}});
}

Status Tagger::Data::LoadAll(const std::string& dir) {
  for (int lang = 0; lang < kLangs; ++lang) {
    Status st = ForEachLine(dir, std::string("sentiment_") + kLangCodes[lang] + ".tsv", [&](const Fields& f) {
      double v;
      if (f.size() != 2) return Bad("want: word valence");
      if (Status e = ParseNumber(f[1], -4, 4, &v); !e.ok()) return e;
      for (const std::string& form : ExpandForms(f[0])) {
        WordInfo& w = info[AddWord(form)];
        w.valence[lang] = static_cast<float>(v);
        w.has_valence |= 1 << lang;
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
  }

  // Lists of the form "lang word...": each sets one bit per word.
  const std::pair<const char*, uint8_t WordInfo::*> flag_files[] = {
      {"negations.txt", &WordInfo::negation}, {"contrast.txt", &WordInfo::contrast}, {"stopwords.txt", &WordInfo::stop}};
  for (const auto& [file, field] : flag_files) {
    Status st = ForEachLine(dir, file, [&](const Fields& f) {
      int lang;
      if (Status e = ParseLang(f[0], &lang); !e.ok()) return e;
      for (size_t i = 1; i < f.size(); ++i) info[AddWord(f[i])].*field |= 1 << lang;
      return Status::Ok();
    });
    if (!st.ok()) return st;
  }

  Status st = ForEachLine(dir, "boosters.txt", [&](const Fields& f) {
    int lang;
    double scalar;
    if (f.size() < 3) return Bad("want: lang scalar words...");
    if (Status e = ParseLang(f[0], &lang); !e.ok()) return e;
    if (Status e = ParseNumber(f[1], -1, 1, &scalar); !e.ok()) return e;
    for (size_t i = 2; i < f.size(); ++i) info[AddWord(f[i])].boost[lang] = static_cast<float>(scalar);
    return Status::Ok();
  });
  if (!st.ok()) return st;

  st = ForEachLine(dir, "phrases.txt", [&](const Fields& f) {
    Phrase p;
    double v;
    if (f.size() < 4) return Bad("want: lang valence word word...");
    if (Status e = ParseLang(f[0], &p.lang); !e.ok()) return e;
    if (Status e = ParseNumber(f[1], -4, 4, &v); !e.ok()) return e;
    p.valence = static_cast<float>(v);
    for (size_t i = 2; i < f.size(); ++i) p.words.push_back(AddWord(f[i]));
    info[p.words[0]].phrase |= 1 << p.lang;
    phrases.push_back(std::move(p));
    return Status::Ok();
  });
  if (!st.ok()) return st;

  st = ForEachLine(dir, "emoji.tsv", [&](const Fields& f) {
    double v;
    if (f.size() != 2) return Bad("want: symbol valence");
    if (Status e = ParseNumber(f[1], -4, 4, &v); !e.ok()) return e;
    const unsigned char first = f[0][0];
    if (std::isalpha(first)) {  // a word in every language: "haha", "xd"
      WordInfo& w = info[AddWord(f[0])];
      for (int l = 0; l < kLangs; ++l) w.valence[l] = static_cast<float>(v);
      w.has_valence = (1 << kLangs) - 1;
    } else if (first < 0x80) {
      emoticons.emplace_back(std::string(f[0]), static_cast<float>(v));
      emoticon_starts[first / 64] |= uint64_t{1} << (first % 64);
    } else {
      emoji.emplace_back(Decode(f[0], 0).cp, static_cast<float>(v));
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  std::sort(emoji.begin(), emoji.end());
  std::stable_sort(phrases.begin(), phrases.end(),
                   [](const Phrase& a, const Phrase& b) { return a.words[0] < b.words[0]; });
  std::stable_sort(emoticons.begin(), emoticons.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  laugh_word = words.Find("haha");

  for (int lang = 0; lang < kLangs; ++lang) {
    st = ForEachLine(dir, std::string("profanity_") + kLangCodes[lang] + ".txt", [&](const Fields& f) {
      const int base = bad_bases.Add(FoldWord(f[0]));
      for (std::string_view form : f) AddBad(form, base);
      return Status::Ok();
    });
    if (!st.ok()) return st;
  }

  st = ForEachLine(dir, "allow.txt", [&](const Fields& f) {
    uint8_t langs = f.size() == 1 ? (1 << kLangs) - 1 : 0;
    for (size_t i = 1; i < f.size(); ++i) {
      int lang;
      if (Status e = ParseLang(f[i], &lang); !e.ok()) return e;
      langs |= 1 << lang;
    }
    info[AddWord(f[0])].allow |= langs;
    return Status::Ok();
  });
  if (!st.ok()) return st;

  // A bad word reads in sentiment as the form it matched, else as its base term.
  for (BadForm& f : bad_forms) {
    f.match.word = words.Find(f.folded);
    if (f.match.word < 0) f.match.word = words.Find(bad_bases.Key(f.match.base));
  }
  for (BadAffix& a : bad_affixes) a.match.word = words.Find(bad_bases.Key(a.match.base));
  // Precomputed: whether each known word is a bad one, so that most tokens need no matching.
  for (int id = 0; id < words.size(); ++id) info[id].bad = MatchBad(words.Key(id)).base;
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Scanning: the text becomes word tokens (folded into Scratch::fold) and emoji tokens.

namespace {

// Laughter in its many spellings: "jajaja", "hahah", "jeje", "kkkk", "rsrs".
bool IsLaugh(std::string_view w) {
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

bool HasRun(std::string_view w) {
  for (size_t i = 1; i < w.size(); ++i)
    if (w[i] == w[i - 1]) return true;
  return false;
}

// w with every run of one character cut to at most `keep` ("buenooo", 1: "bueno").
std::string_view CutRuns(std::string_view w, size_t keep, char* buf) {
  size_t n = 0, run = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    run = (i > 0 && w[i] == w[i - 1]) ? run + 1 : 1;
    if (run <= keep) buf[n++] = w[i];
  }
  return {buf, n};
}

}  // namespace

// The id of w, of w with stretched letters cut ("goood", "lindooo"), or of laughter; -1 if none.
int Tagger::Data::LookupWord(std::string_view w, bool* exact) const {
  *exact = true;
  if (int id = words.Find(w); id >= 0) return id;
  *exact = false;
  if (w.size() <= 64 && HasRun(w)) {
    char buf[64];
    if (int id = words.Find(CutRuns(w, 2, buf)); id >= 0) return id;
    if (int id = words.Find(CutRuns(w, 1, buf)); id >= 0) return id;
  }
  return IsLaugh(w) ? laugh_word : -1;
}

void Tagger::Data::EndToken(Token* t, Scratch* s) const {
  const std::string_view f = std::string_view(s->fold).substr(t->fold_begin, t->fold_end - t->fold_begin);
  t->word = LookupWord(f, &t->exact);
  s->tokens.push_back(*t);
}

// An emoticon starting at text[i] (":)", ":-(", "<3"), with a repeated last character absorbed
// (":)))"); 0 if none. It may not be glued to a word on its right ("http://x" has no ":/").
size_t Tagger::Data::MatchEmoticon(std::string_view text, size_t i, float* valence) const {
  const bool after_word = i > 0 && std::isalnum(static_cast<unsigned char>(text[i - 1]));
  for (const auto& [face, v] : emoticons) {
    if (text.compare(i, face.size(), face) != 0) continue;
    if (after_word && !IsOneOf(face[0], ":;=<^>")) continue;  // "(see above):" is no face
    size_t end = i + face.size();
    while (end < text.size() && text[end] == face.back()) ++end;
    if (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '/')) continue;
    *valence = v;
    return end - i;
  }
  return 0;
}

void Tagger::Data::Scan(std::string_view text, Scratch* s, ScanStats* st) const {
  if (s->fold.size() < text.size()) s->fold.resize(text.size());  // folding never grows text
  char* const fold = s->fold.data();
  char* out = fold;
  Token cur;
  bool in_word = false;
  bool clause = false;
  uint16_t uppers = 0;
  auto end_word = [&](size_t at) {
    if (!in_word) return;
    cur.end = static_cast<uint32_t>(at);
    cur.fold_end = static_cast<uint32_t>(out - fold);
    cur.caps = cur.letters >= 2 && uppers == cur.letters;
    EndToken(&cur, s);
    in_word = false;
  };
  for (size_t i = 0; i < text.size();) {
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
          if (c.len > 1) LanguageHint(c.cp, st);
        }
        // The rest of the word while it is plain ASCII, without the general dispatch.
        for (i += c.len; i < text.size(); ++i) {
          const auto b = static_cast<unsigned char>(text[i]);
          if (b >= 0x80) break;
          const CharInfo& a = kChars.c[b];
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
        break;
      case kPunct: {
        end_word(i);
        float v = 0;
        size_t len = 0;
        if (c.cp >= 0x2000) {
          const auto it = std::lower_bound(emoji.begin(), emoji.end(), std::make_pair(c.cp, -1e9f));
          if (it != emoji.end() && it->first == c.cp) v = it->second, len = c.len;
        } else if (c.cp < 0x80 && (emoticon_starts[c.cp / 64] >> (c.cp % 64) & 1)) {
          len = MatchEmoticon(text, i, &v);
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
        LanguageHint(c.cp, st);
        clause |= c.info.clause;
        break;
      }
    }
    i += c.len;
  }
  end_word(text.size());
}

// ---------------------------------------------------------------------------------------------
// Language: stop-word votes, plus letters only one language uses, plus words only one lexicon has.

int Tagger::Data::DetectLanguage(const Scratch& s, const ScanStats& st, bool* ambiguous) const {
  double score[kLangs];
  std::copy(st.hints, st.hints + kLangs, score);
  for (const Token& t : s.tokens) {
    if (t.word < 0 || t.absorbed) continue;
    const WordInfo& w = info[t.word];
    for (int l = 0; l < kLangs; ++l) {
      if (w.stop >> l & 1) score[l] += 1;
      else if ((w.has_valence >> l & 1) && w.has_valence != (1 << kLangs) - 1) score[l] += 0.5;
    }
  }
  // Ties go to Spanish, then Portuguese; no evidence at all reads as English.
  int best = kEn;
  for (int l : {kPt, kEs})
    if (score[l] >= score[best] && score[l] > 0) best = l;
  int ties = 0;
  for (int l = 0; l < kLangs; ++l) ties += score[l] == score[best];
  *ambiguous = ties > 1;
  return best;
}

// ---------------------------------------------------------------------------------------------
// Profanity.

// The bad base term that a folded candidate word is, or -1. Matching is on the whole word after
// undoing leetspeak: a word whose squeezed letters equal a form's, with each run at least as long
// as the form's ("fuuuck", "asss"; not "as" for "ass"), or that carries an affix form ("*fuck*").
Tagger::Data::BadMatch Tagger::Data::MatchBad(std::string_view candidate) const {
  if (candidate.find('*') != std::string_view::npos) return MatchBadWild(candidate);
  Squeezed sq;
  for (bool one_is_l : {false, true}) {
    if (one_is_l && candidate.find('1') == std::string_view::npos) break;
    if (!Squeeze(candidate, one_is_l, &sq)) return {};
    const std::string_view w = sq.view();
    if (const int key = bad_keys.Find(w); key >= 0) {
      for (int index : bad_by_key[key]) {
        const BadForm& form = bad_forms[index];
        size_t k = 0;
        while (k < form.runs.size() && sq.runs[k] >= static_cast<uint8_t>(form.runs[k])) ++k;
        if (k == form.runs.size()) return form.match;
      }
    }
    for (const BadAffix& a : bad_affixes) {
      if (a.prefix ? w.starts_with(a.core) : a.suffix ? w.ends_with(a.core) : w.find(a.core) != std::string_view::npos)
        return a.match;
    }
  }
  return {};
}

// A self-censored word ("f*ck", "s**t", "a**hole"): each '*' stands for one letter. At least two
// real letters are needed, so that masked output ("m*****") is never flagged again.
Tagger::Data::BadMatch Tagger::Data::MatchBadWild(std::string_view candidate) const {
  const size_t stars = std::count(candidate.begin(), candidate.end(), '*');
  if (candidate.size() - stars < 2 || candidate.size() > kMaxBadLength) return {};
  for (const BadForm& form : bad_forms) {
    const std::string& f = form.folded;
    if (f.size() != candidate.size()) continue;
    size_t k = 0;
    while (k < f.size() && (candidate[k] == '*' || Unleet(candidate[k], false) == f[k])) ++k;
    if (k == f.size()) return form.match;
  }
  return {};
}

// Whether tokens a and a+1 may be one word split up: glued by one in-word separator ("mier.da",
// "sh!t", "f*ck", "f**k") or, for single characters, by a little space or punctuation ("f u c k").
bool Tagger::Data::Linked(std::string_view text, const Scratch& s, size_t a) const {
  const Token& x = s.tokens[a];
  const Token& y = s.tokens[a + 1];
  if (x.is_emoji || y.is_emoji || x.bad >= 0 || y.bad >= 0) return false;
  const std::string_view gap = text.substr(x.end, y.begin - x.end);
  if (gap.empty() || gap.size() > 4) return false;
  if (gap.size() == 1 && IsOneOf(gap[0], ".-_!~+|*")) return true;
  bool stars = true, separators = true;
  for (char c : gap) {
    stars &= c == '*';
    separators &= IsOneOf(c, " .-_*,/|~+");
  }
  if (stars) return true;
  const bool singles = x.fold_end - x.fold_begin == 1 && y.fold_end - y.fold_begin == 1;
  return singles && gap.size() <= 3 && separators;
}

// Marks bad words: whole tokens, then words in pieces. Words allowed in only some languages are
// marked too, and spared by Allow once the language is known.
void Tagger::Data::FindBadWords(std::string_view text, Scratch* s) const {
  constexpr uint8_t kEveryLanguage = (1 << kLangs) - 1;
  std::vector<Token>& tokens = s->tokens;
  const std::string_view fold = s->fold;
  for (Token& t : tokens) {
    if (t.is_emoji) continue;
    if (t.exact) {
      const WordInfo& w = info[t.word];
      if (w.allow != kEveryLanguage) t.bad = w.bad;
    } else if (const BadMatch m = MatchBad(fold.substr(t.fold_begin, t.fold_end - t.fold_begin)); m.base >= 0) {
      t.bad = m.base;
      t.word = m.word;
    }
  }
  // Then words in pieces, longest join first.
  for (size_t a = 0; a + 1 < tokens.size(); ++a) {
    size_t last = a;
    while (last + 1 < tokens.size() && last - a + 1 < kMaxJoin && Linked(text, *s, last)) ++last;
    for (; last > a; --last) {
      std::string& join = s->join;
      join.clear();
      for (size_t k = a; k <= last; ++k) {
        if (k > a) {
          const std::string_view gap = text.substr(tokens[k - 1].end, tokens[k].begin - tokens[k - 1].end);
          if (gap[0] == '*') join.append(gap);        // each star a hidden letter
          else if (gap == "!") join.push_back('!');   // "sh!t"
        }
        join.append(fold.substr(tokens[k].fold_begin, tokens[k].fold_end - tokens[k].fold_begin));
      }
      if (join.size() < 3) continue;
      const BadMatch m = MatchBad(join);
      if (m.base < 0) continue;
      tokens[a].bad = m.base;
      tokens[a].word = m.word;
      tokens[a].exact = false;
      for (size_t k = a + 1; k <= last; ++k) tokens[k].absorbed = true;
      a = last;
      break;
    }
  }
}

void Tagger::Data::Allow(int lang, Scratch* s) const {
  for (Token& t : s->tokens)
    if (t.bad >= 0 && t.exact && (info[t.word].allow >> lang & 1)) t.bad = -1;
}

namespace {

// The text with each bad word's characters after its first replaced by one '*' each.
std::string Mask(std::string_view text, const std::vector<Token>& tokens) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const Token& t : tokens) {
    if (t.bad < 0 && !t.absorbed) continue;
    out.append(text.substr(pos, t.begin - pos));
    size_t i = t.begin;
    if (t.bad >= 0) {  // the first character of the word stays
      const size_t len = Decode(text, i).len;
      out.append(text.substr(i, len));
      i += len;
    }
    for (; i < t.end; i += Decode(text, i).len) out.push_back('*');
    pos = t.end;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Sentiment.

bool Tagger::Data::Valence(int word, int lang, bool ambiguous, float* v) const {
  const WordInfo& w = info[word];
  // When the language is only a guess, the word's valence may come from another language.
  for (int l : {lang, int{kEn}, int{kEs}, int{kPt}}) {
    if (w.has_valence >> l & 1) {
      *v = w.valence[l];
      return true;
    }
    if (!ambiguous) break;
  }
  return false;
}

namespace {

double Sign(double x) { return x < 0 ? -1 : 1; }

}  // namespace

// An idiom of `lang` starting at token `at` ("de puta madre"): its valence and last token.
bool Tagger::Data::MatchPhrase(const Scratch& s, size_t at, int lang, float* v, size_t* last) const {
  const int first = s.tokens[at].word;
  auto it = std::lower_bound(phrases.begin(), phrases.end(), first,
                             [](const Phrase& p, int word) { return p.words[0] < word; });
  for (; it != phrases.end() && it->words[0] == first; ++it) {
    const Phrase& p = *it;
    if (p.lang != lang) continue;
    size_t k = at;
    size_t matched = 1;
    while (matched < p.words.size()) {
      ++k;
      while (k < s.tokens.size() && s.tokens[k].absorbed) ++k;
      if (k >= s.tokens.size() || s.tokens[k].clause_start || s.tokens[k].is_emoji) break;
      if (s.tokens[k].word != p.words[matched]) break;
      ++matched;
    }
    if (matched == p.words.size()) {
      *v = p.valence;
      *last = k;
      return true;
    }
  }
  return false;
}

// VADER's adjustments to the valence v of token `at`: ALL-CAPS, boosters and negations among the
// three words before it in the same clause.
double Tagger::Data::Modify(double v, const Scratch& s, size_t at, int lang, bool has_lower) const {
  if (v == 0) return 0;
  if (s.tokens[at].caps && has_lower) v += Sign(v) * kCapsBoost;
  bool negated = false;
  size_t k = at;
  for (int step = 0; step < kWindow; ++step) {
    if (s.tokens[k].clause_start) break;
    do {
      if (k == 0) return negated ? v * kNegationScalar : v;
      --k;
    } while (s.tokens[k].absorbed);
    const Token& t = s.tokens[k];
    if (t.is_emoji) break;
    const int word = t.word;
    if (word < 0) continue;
    const WordInfo& w = info[word];
    if (w.boost[lang] != 0) {
      double b = w.boost[lang] * kWindowDecay[step];
      if (t.caps && has_lower) b += Sign(b) * kCapsBoost;
      v += Sign(v) * b;
    }
    negated |= w.negation >> lang & 1;
  }
  return negated ? v * kNegationScalar : v;
}

double Tagger::Data::Sentiment(Scratch* scratch, const ScanStats& st, int lang, bool ambiguous) const {
  const Scratch& s = *scratch;
  std::vector<double>& items = scratch->items;
  items.clear();
  size_t contrast = SIZE_MAX;  // items from here on come after the last "but"
  for (size_t i = 0; i < s.tokens.size(); ++i) {
    const Token& t = s.tokens[i];
    if (t.absorbed) continue;
    if (t.is_emoji) {
      items.push_back(t.emoji);
      continue;
    }
    const int word = t.word;
    if (word < 0) continue;
    const WordInfo& w = info[word];
    if (w.contrast >> lang & 1) {
      contrast = items.size();
      continue;
    }
    float v;
    size_t last = i;
    if ((w.phrase >> lang & 1) && MatchPhrase(s, i, lang, &v, &last)) {
      items.push_back(Modify(v, s, i, lang, st.has_lower));
      i = last;
    } else if (Valence(word, lang, ambiguous, &v)) {
      items.push_back(Modify(v, s, i, lang, st.has_lower));
    }
  }
  double sum = 0;
  for (size_t k = 0; k < items.size(); ++k)
    sum += items[k] * (contrast == SIZE_MAX ? 1 : k < contrast ? kBeforeContrast : kAfterContrast);
  if (sum != 0) sum += Sign(sum) * std::min(st.exclaims, kMaxExclaims) * kExclaimBoost;
  return sum / std::sqrt(sum * sum + kAlpha);
}

// ---------------------------------------------------------------------------------------------

Tags Tagger::Data::Analyze(std::string_view text) const {
  static thread_local Scratch scratch;
  Scratch* s = &scratch;
  s->tokens.clear();
  ScanStats st;
  Scan(text, s, &st);
  FindBadWords(text, s);
  bool ambiguous;
  const int lang = DetectLanguage(*s, st, &ambiguous);
  Allow(lang, s);

  Tags tags;
  tags.lang = kLangCodes[lang];
  double score = std::round(Sentiment(s, st, lang, ambiguous) * 1000) / 1000;
  if (score == 0) score = 0;  // no "-0"
  tags.sentiment_score = score;
  tags.sentiment_label = score >= kNeutralBand ? "positive" : score <= -kNeutralBand ? "negative" : "neutral";
  for (const Token& t : s->tokens) {
    if (t.bad < 0) continue;
    tags.profane = true;
    const std::string_view base = bad_bases.Key(t.bad);
    if (std::find(tags.terms.begin(), tags.terms.end(), base) == tags.terms.end()) tags.terms.emplace_back(base);
  }
  tags.masked = tags.profane ? Mask(text, s->tokens) : std::string(text);
  return tags;
}

Tagger::Tagger(std::unique_ptr<const Data> data) : data_(std::move(data)) {}
Tagger::~Tagger() = default;

Result<std::unique_ptr<Tagger>> Tagger::Load(const std::string& data_dir) {
  auto data = std::make_unique<Data>();
  if (Status st = data->LoadAll(data_dir); !st.ok()) return st;
  return std::unique_ptr<Tagger>(new Tagger(std::move(data)));
}

Tags Tagger::Analyze(std::string_view text) const { return data_->Analyze(text); }

namespace {

// s with every byte that is not part of valid UTF-8 replaced by U+FFFD.
std::string ValidUtf8(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const Char c = Decode(s, i);
    if (c.len == 1 && c.cp >= 0x80) out.append("\xEF\xBF\xBD");
    else out.append(s.substr(i, c.len));
    i += c.len;
  }
  return out;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;
  while (i < s.size()) {
    const Char c = Decode(s, i);
    if (c.len == 1 && c.cp >= 0x80) return false;
    i += c.len;
  }
  return true;
}

}  // namespace

std::string TagsToJson(const Tags& tags) {
  static thread_local rapidjson::StringBuffer buf;  // keeps its capacity from message to message
  buf.Clear();
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("lang");
  w.String(tags.lang.data(), static_cast<rapidjson::SizeType>(tags.lang.size()));
  w.Key("sentiment");
  w.StartObject();
  w.Key("label");
  w.String(tags.sentiment_label.data(), static_cast<rapidjson::SizeType>(tags.sentiment_label.size()));
  w.Key("score");
  w.Double(std::round(tags.sentiment_score * 1000) / 1000 + 0.0);  // + 0.0 turns -0 into 0
  w.EndObject();
  w.Key("profanity");
  w.StartObject();
  w.Key("flagged");
  w.Bool(tags.profane);
  w.Key("terms");
  w.StartArray();
  for (const std::string& term : tags.terms) w.String(term.data(), static_cast<rapidjson::SizeType>(term.size()));
  w.EndArray();
  w.Key("masked");
  if (IsValidUtf8(tags.masked)) {
    w.String(tags.masked.data(), static_cast<rapidjson::SizeType>(tags.masked.size()));
  } else {
    const std::string valid = ValidUtf8(tags.masked);
    w.String(valid.data(), static_cast<rapidjson::SizeType>(valid.size()));
  }
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string DefaultTagDataDir() {
  if (const char* env = std::getenv("CHATPIPE_TAG_DATA"); env && *env) return env;
  return CHATPIPE_TAG_DATA_DIR;
}

}  // namespace chatpipe
