// The tagger's output, byte for byte, over a fixed corpus: the evaluation sets (data/eval), the checked-in
// testdata/corpus.txt (the unit tests' strings and odd cases) and a few thousand generated messages
// (ASCII, accents, emoji, invalid UTF-8, leetspeak, separators, stretched letters, long runs). The
// expected output is what `chatpipe tag` wrote before the tagger was split into analysis/: the holdout
// sets and corpus.txt line by line in testdata/corpus.jsonl; the development sets, which grow by
// batches of thousands, and the generated part as the SHA-256 of their output.
// A change that alters any output fails here; when the change is meant (a lexicon tuned, the code
// version bumped), the test writes the new output next to its temp dir for review and copying.
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "analysis/tagger.h"

namespace chatpipe {
namespace {

constexpr const char* kDevelopmentSetsSha256 = "edead1a3f16cafb83a1de7b72c8f8a0ffa5b036cd73bba0bca9fda64ba77412b";
constexpr const char* kGeneratedSha256 = "9dac30a7363ef68605a4595b693ab4db2da30bcb21bc864c783f890cc6380d73";
constexpr int kGeneratedLines = 4000;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The texts of an evaluation set (lang, sentiment, profanity, text; '#' comments).
std::vector<std::string> LabelledTexts(const std::string& path) {
  std::vector<std::string> out;
  for (const std::string& line : Lines(ReadFile(path))) {
    if (line.empty() || line[0] == '#') continue;
    size_t tab = 0;
    for (int k = 0; k < 3 && tab != std::string::npos; ++k) tab = line.find('\t', tab + (k > 0));
    if (tab != std::string::npos) out.push_back(line.substr(tab + 1));
  }
  return out;
}

// Messages made of random pieces; std::mt19937_64's sequence is fixed by the standard, so every
// platform generates the same corpus. No '\n' or '\r', so that `chatpipe tag` reads each as one line.
std::vector<std::string> Generated() {
  static const std::vector<std::string> words = {
      "mierda", "fuck",  "puta",     "shit",    "merda",     "caralho",    "porra",       "cabrón", "coño",
      "ass",    "bueno", "malo",     "good",    "bad",       "love",       "hate",        "não",    "gostei",
      "muy",    "very",  "not",      "no",      "pero",      "but",        "mas",         "jajaja", "haha",
      "kkkk",   "hola",  "obrigado", "gracias", "thanks",    "de",         "madre",       "the",    "el",
      "la",     "que",   "é",        "está",    "niño",      "año",        "reunião",     "amazing", "terrible",
      "horrível", "péssimo", "Scunthorpe", "assessment", "computadora", "disputa", "shiitake", "xD", "lol",
      "asshole", "bullshit", "motherfucker", "pendejo", "idiota", "bitch", "hijo", "sin", "problemas", "isn't"};
  static const std::vector<std::string> odd = {
      "á", "é", "í", "ó", "ú", "ñ", "Ñ", "ç", "ã", "õ", "ê", "ô", "â", "à", "ü", "Á", "É", "Ç", "Ã", "Ő", "ł",
      "ž", "ſ", "Ÿ", "ß", "æ", "ø", "×", "÷", "😀", "😂", "😡", "❤️", "👍", "👎", "😍", "🙄", "🤬", "✨", "…",
      "™", "€", "中文", "Ωμέγα", "Привет", "ح", "\u200b", "\u00a0", "\u3000", "\ufeff", "\u0301", "’", "‘",
      "ʼ", ":)", ":-(", ":(((", "<3", ":D", ";)", "=)", ":/", "^^", ":P", ":'(", "\x80", "\xBF", "\xC3",
      "\xC0\x80", "\xC1\xBF", "\xE2\x82", "\xED\xA0\x80", "\xF0\x9F", "\xF4\x90\x80\x80", "\xF5", "\xFF",
      "\xFE", "\xE0\x80\x80", "\xF0\x80\x80\x80", std::string(1, '\0'), "\t", "\x7f"};
  static const std::vector<std::string> separators = {" ", " ", " ", " ", ".", "-", "_", "*", "~", "+", "|", "/",
                                                      ",", "!", "?", "¿", "¡", "'", "  ", "...", "!!!", "**",
                                                      "@", "$", "#", ", ", ". ", " - "};
  std::mt19937_64 rng(20261203);
  auto pick = [&](const std::vector<std::string>& from) -> const std::string& { return from[rng() % from.size()]; };
  auto piece = [&]() {
    if (rng() % 4 == 0) return pick(odd);
    std::string w = pick(words);
    switch (rng() % 8) {
      case 0:  // leetspeak
        for (char& c : w) {
          const char* leet = c == 'a' ? "4@" : c == 'e' ? "3" : c == 'i' ? "1!" : c == 'o' ? "0" : c == 's' ? "5$" : "";
          if (*leet && rng() % 2) c = leet[rng() % std::char_traits<char>::length(leet)];
        }
        break;
      case 1: {  // a stretched letter
        const size_t at = rng() % w.size();
        if (static_cast<unsigned char>(w[at]) < 0x80) w.insert(at, rng() % 40 + 1, w[at]);
        break;
      }
      case 2: {  // letters apart
        const std::string& sep = pick(separators);
        std::string spaced;
        for (char c : w) {
          if (!spaced.empty() && static_cast<unsigned char>(c) < 0x80) spaced += sep;
          spaced += c;
        }
        w = spaced;
        break;
      }
      case 3:
        for (char& c : w) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        break;
      case 4:
        for (char& c : w)
          if (rng() % 2) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        break;
      default:
        break;
    }
    return w;
  };
  std::vector<std::string> out;
  for (int n = 0; n < kGeneratedLines; ++n) {
    std::string line;
    const size_t pieces = rng() % 50 == 0 ? rng() % 400 : rng() % 20 + 1;
    for (size_t k = 0; k < pieces; ++k) {
      if (k > 0) line += pick(separators);
      if (rng() % 40 == 0) {
        const std::string& unit = rng() % 2 ? pick(odd) : pick(separators);
        for (size_t r = rng() % 3000; r > 0; --r) line += unit;  // a long run
      } else {
        line += piece();
      }
    }
    out.push_back(line);
  }
  return out;
}

std::string Output(const Tagger& tagger, const std::vector<std::string>& texts) {
  std::string out;
  for (const std::string& text : texts) out += TagsToJson(tagger.Analyze(text)) + '\n';
  return out;
}

std::string Sha256Hex(const std::string& bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  std::string hex(2 * sizeof digest + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), digest, sizeof digest);
  hex.pop_back();
  return hex;
}

// Writes what the tagger said now, for review, and names the file.
std::string Keep(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

class CorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = Tagger::Load(DefaultTagDataDir());
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    tagger_ = std::move(*loaded);
  }
  std::unique_ptr<Tagger> tagger_;
};

std::vector<std::string> SetTexts(const char* set) {
  std::vector<std::string> texts;
  for (const char* lang : {"en", "es", "pt"})
    for (std::string& t : LabelledTexts(DefaultTagDataDir() + "/eval/" + set + "_" + lang + ".tsv"))
      texts.push_back(std::move(t));
  return texts;
}

TEST_F(CorpusTest, HoldoutAndCheckedInCorpusTagAsBefore) {
  std::vector<std::string> texts = SetTexts("holdout");
  const size_t sets = texts.size();
  for (std::string& t : Lines(ReadFile(CHATPIPE_TESTDATA_DIR "/corpus.txt"))) texts.push_back(std::move(t));
  ASSERT_GT(texts.size(), sets + 200);
  const std::string got = Output(*tagger_, texts);
  const std::vector<std::string> want = Lines(ReadFile(CHATPIPE_TESTDATA_DIR "/corpus.jsonl"));
  const std::vector<std::string> lines = Lines(got);
  ASSERT_EQ(lines.size(), texts.size());
  EXPECT_EQ(want.size(), texts.size());
  int differ = 0;
  for (size_t i = 0; i < lines.size() && i < want.size(); ++i) {
    if (lines[i] == want[i]) continue;
    if (++differ > 5) continue;
    // A holdout is only scored, never read: its lines are named by number alone.
    if (i < sets) ADD_FAILURE() << "line " << i + 1 << ", a holdout message, tags differently";
    else ADD_FAILURE() << "line " << i + 1 << " of " << texts[i] << "\n want " << want[i] << "\n got  " << lines[i];
  }
  if (differ > 0 || want.size() != texts.size())
    ADD_FAILURE() << differ << " line(s) differ; the output now is in " << Keep("corpus.jsonl", got);
}

TEST_F(CorpusTest, DevelopmentSetsTagAsBefore) {
  const std::vector<std::string> texts = SetTexts("dev");
  ASSERT_GT(texts.size(), 3000u);
  const std::string got = Output(*tagger_, texts);
  EXPECT_EQ(Sha256Hex(got), kDevelopmentSetsSha256) << "the output now is in " << Keep("dev.jsonl", got);
}

TEST_F(CorpusTest, GeneratedMessagesTagAsBefore) {
  const std::vector<std::string> texts = Generated();
  std::string corpus;
  for (const std::string& t : texts) corpus += t + '\n';
  const std::string got = Output(*tagger_, texts);
  EXPECT_EQ(Sha256Hex(got), kGeneratedSha256) << "the corpus is in " << Keep("generated.txt", corpus)
                                              << ", the output now in " << Keep("generated.jsonl", got);
}

}  // namespace
}  // namespace chatpipe
