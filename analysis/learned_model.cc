#include "analysis/learned_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "analysis/chars.h"
#include "analysis/language.h"
#include "analysis/sentiment.h"
#include "analysis/steps.h"

namespace chatpipe::analysis {
namespace {

// The lexicon's evidence, after the text's buckets: one row each.
enum Extra : int {
  kBias, kScore, kVeryNegative, kNegative, kNeutral, kPositive, kVeryPositive, kQuestion, kEmojiPositive,
  kEmojiNegative, kProfane, kLangEn, kLangEs, kLangPt, kExtras
};

enum Head : int { kSentimentHead, kProfanityHead, kHeads };
constexpr int kClasses = 3;
static_assert(kSentimentClasses == kClasses && kProfanityClasses == kClasses);
constexpr int kStored = kClasses - 1;  // a stored row: its classes less its first

// Which extras a head reads: the profanity head only what the text says by itself (its bias, its
// language), never the word lists' verdict (learned_model.h says why).
bool HeadReads(int head, int extra) {
  return head == kSentimentHead || extra == kBias || extra == kLangEn || extra == kLangEs || extra == kLangPt;
}

constexpr uint32_t kFnvBasis = 0x811c9dc5, kFnvPrime = 0x01000193;
constexpr uint32_t kVariationSelector = 0xFE0F;
// The text's weights are stored as 8-bit integers in units of 2^-4, a quarter of the memory of 32 bits
// (Predict reads a random row per feature), so that twice the rows of 16-bit weights fit the same cache.
// Trained weights stay inside the clamp (|w| < 4 on the shipped sets, so their differences < 8). The
// rounding moves a logit by a few hundredths; on the read holdouts, each left out in turn, the 8-bit heads
// at 2^19 and 2^18 rows found what unrounded weights found (bench/README.md, "accuracy").
using Weight = LearnedModel::Weight;
constexpr double kFixedOne = 1 << 4, kMaxWeight = 127 / kFixedOne;

// An FNV hash to one of 2^bits buckets: Fibonacci hashing keeps the well-mixed high bits.
inline uint32_t Bucket(uint32_t h, int bits) { return (h * 0x9E3779B1u) >> (32 - bits); }

// What ForEachFeature counts: each block's features, and whether the text asks.
struct TextSummary {
  uint32_t char_features = 0, word_features = 0, addressed_features = 0;
  bool question = false;
};

// A word's hash: FNV from its own basis, a step per folded character. ForEachFeature hashes the text's
// words so, and WordHash a word already folded (lower-case ASCII) the same way.
constexpr uint32_t kWordBasis = kFnvBasis ^ 'w';
constexpr uint32_t WordStep(uint32_t h, uint32_t folded) { return (h ^ folded) * kFnvPrime; }
constexpr uint32_t WordHash(std::string_view folded) {
  uint32_t h = kWordBasis;
  for (char c : folded) h = WordStep(h, static_cast<unsigned char>(c));
  return h;
}

// Words that address the reader, folded: a message holding one speaks to someone, and its words then
// mean more ("your mum works nights, right?", "vi vc saindo da academia"). "seu" and "sua" are also "his"
// and "her" in Portuguese; Brazilians mostly mean "your".
constexpr std::string_view kSecondPersonWords[] = {
    "you", "your", "youre", "yours", "yourself", "u", "ur", "ya", "ye", "yer",
    "tu", "te", "ti", "tus", "vos", "usted", "contigo", "tuyo", "tuya",
    "voce", "vc", "vcs", "voces", "ce", "teu", "tua", "teus", "tuas", "seu", "sua"};

// Their hashes in an open-addressed table of 128 slots, a quarter full, built at compile time (0 marks an
// empty slot; none of these words hashes to 0, or the build fails). A word is compared with the few
// slots from its home on that any of them can sit in, all of them, with no branch: nearly every word is
// no such word, and a branch that guessed wrong cost more than the compares.
struct SecondPersonTable {
  static constexpr int kSlots = 128, kReach = 4;  // kReach: the longest run from a home (the constructor checks)
  uint32_t slot[kSlots + kReach] = {};              // the first kReach slots again at the end
  static constexpr uint32_t Home(uint32_t h) { return (h * 0x9E3779B1u) >> 25; }
  constexpr SecondPersonTable() {
    for (std::string_view w : kSecondPersonWords) {
      const uint32_t h = WordHash(w);
      if (h == 0) throw "a second-person word hashes to 0";
      uint32_t i = Home(h);
      while (slot[i] != 0) i = (i + 1) % kSlots;
      if ((i + kSlots - Home(h)) % kSlots >= kReach) throw "a second-person word sits too far from its home";
      slot[i] = h;
    }
    for (int i = 0; i < kReach; ++i) slot[kSlots + i] = slot[i];
  }
  bool Has(uint32_t h) const {
    const uint32_t* s = slot + Home(h);
    return ((s[0] == h) | (s[1] == h) | (s[2] == h) | (s[3] == h)) & (h != 0);
  }
};
static_assert(SecondPersonTable::kReach == 4);  // Has compares four slots
constexpr SecondPersonTable kSecondPerson;

// The two blocks of the text's features. Each is scaled to unit length apart: together, the many
// character n-grams outweighed the few words, and held-out batches of the development sets scored
// 0.005-0.01 higher with the blocks apart (bench/README.md, "accuracy"). The character 4-grams are
// kProfanityCharBlock, of the character block all the same for the sentiment head; the profanity head
// reads only them of the characters (and every word feature): a third of the loads, so that the second
// head costs the tagger little, and on the read holdouts it fixed 55 misses where all three n-grams fixed
// 57, and added 7 false positives where they added 9 (3-grams alone: 52 and 10; 5-grams: 50 and 16).
// kAddressedBlock, read by the profanity head only with its words, holds each word of a message that
// addresses someone (kSecondPersonWords) a second time, in the row beside the word's own: "tua mãe" and
// "works nights" weigh apart when said to "you". A linear model cannot learn that conjunction from the
// words alone, and veiled threats are made of it (tagger 18: bench/README.md, "accuracy").
enum Block : int { kCharBlock, kWordBlock, kProfanityCharBlock, kAddressedBlock };
constexpr int kBlocks = 4;
// Of a long message, the first words only are held for kAddressedBlock: a bounded buffer.
constexpr int kMaxAddressedWords = 32;

// A character as ForEachFeature reads it: letters, digits and leet as their fold, spaces as one space,
// the rest as itself; and whether it is part of a word.
struct FeatureChar {
  uint32_t folded = 0;
  bool word = false;
};
constexpr FeatureChar ReadAsFeature(char32_t cp, const CharInfo& info) {
  const Kind k = info.kind;
  uint32_t folded = cp;
  if (k == kLetter || k == kDigit || k == kLeet) folded = static_cast<unsigned char>(info.fold);
  else if (k == kSpace) folded = ' ';
  return {folded, k == kLetter || k == kDigit || k == kOpaque};
}

// ReadAsFeature of every ASCII byte, so that most of chat reads one table entry a character.
struct AsciiFeatureTable {
  struct Entry {
    uint8_t folded = 0;
    bool word = false;
  } c[0x80];
};
constexpr AsciiFeatureTable BuildAsciiFeatures() {
  AsciiFeatureTable t{};
  for (int b = 0; b < 0x80; ++b) {
    const FeatureChar f = ReadAsFeature(static_cast<char32_t>(b), kChars.c[b]);
    t.c[b] = {static_cast<uint8_t>(f.folded), f.word};
  }
  return t;
}
constexpr AsciiFeatureTable kAsciiFeatures = BuildAsciiFeatures();

// Calls bucket(b, block) for every feature of the text: in the character block, each character 3-, 4-
// and 5-gram (the 4-grams as kProfanityCharBlock) of the folded text, padded by a space at each end
// (and by "no character" before the first), runs of spaces read as one; in the word block, each word
// (letters, digits, other scripts) and each pair of consecutive words. Folding: letters to their lower-case base (chars.h), combining marks and
// emoji variation selectors dropped, everything else (digits, emoji, punctuation) kept as it is. Single
// characters and 2-grams are left out: on held-out batches they add nothing the rest does not say
// (0.902 with 2-grams, 0.899 without, in English), and 2-grams cost a fifth of the tagger's time. Last,
// if a word addressed the reader, each of the first kMaxAddressedWords words again in kAddressedBlock.
template <class Fn>
[[gnu::always_inline]] inline TextSummary ForEachFeature(std::string_view text, int bucket_bits, int profanity_bits,
                                                         Fn&& bucket) {
  TextSummary out;
  uint32_t w0 = ' ', w1 = 0, w2 = 0, w3 = 0, w4 = 0;  // the last five folded characters, newest first
  uint32_t word = kWordBasis, previous_word = 0;
  bool in_word = false;
  uint32_t words[kMaxAddressedWords];
  int held_words = 0;
  bool addressed = false;
  // This function and both helpers are always inlined: Predict's sums stay in registers only when they
  // are (with 8-bit weights GCC called them instead: 7% more instructions a message). For a lambda GCC
  // honours only the __attribute__ spelling.
  auto push = [&](uint32_t c) __attribute__((always_inline)) {
    w4 = w3;
    w3 = w2;
    w2 = w1;
    w1 = w0;
    w0 = c;
    const uint32_t h1 = ((kFnvBasis ^ 'c') ^ w0) * kFnvPrime;
    const uint32_t h2 = (h1 ^ w1) * kFnvPrime, h3 = (h2 ^ w2) * kFnvPrime, h4 = (h3 ^ w3) * kFnvPrime;
    bucket(Bucket(h3, bucket_bits), kCharBlock);
    bucket(Bucket(h4, bucket_bits), kProfanityCharBlock);
    bucket(Bucket((h4 ^ w4) * kFnvPrime, bucket_bits), kCharBlock);
    out.char_features += 3;
    CHATPIPE_STEPS(3);
  };
  auto end_word = [&]() __attribute__((always_inline)) {
    if (!in_word) return;
    bucket(Bucket(word, bucket_bits), kWordBlock);
    ++out.word_features;
    if (held_words < kMaxAddressedWords) words[held_words++] = word;
    addressed |= kSecondPerson.Has(word);
    if (previous_word != 0) {
      bucket(Bucket((((kFnvBasis ^ 'b') ^ previous_word) * kFnvPrime ^ word) * kFnvPrime, bucket_bits), kWordBlock);
      ++out.word_features;
    }
    previous_word = word;
    word = kWordBasis;
    in_word = false;
  };
  CHATPIPE_STEPS(text.size());  // the decode
  for (size_t i = 0; i < text.size();) {
    uint32_t folded;
    bool in_a_word;
    if (const auto b = static_cast<unsigned char>(text[i]); b < 0x80) {
      const AsciiFeatureTable::Entry a = kAsciiFeatures.c[b];
      folded = a.folded;
      in_a_word = a.word;
      out.question |= b == '?';
      ++i;
    } else {
      const Char c = Decode(text, i);
      i += c.len;
      const Kind kind = c.info.kind;
      if (kind == kMark || c.cp == kVariationSelector) continue;
      const FeatureChar f = ReadAsFeature(c.cp, c.info);
      folded = f.folded;
      in_a_word = f.word;
      out.question |= c.cp == 0xBF;  // '¿'
    }
    if (in_a_word) {
      word = WordStep(word, folded);
      in_word = true;
    } else {
      end_word();
    }
    if (folded == ' ' && w0 == ' ') continue;
    push(folded);
  }
  end_word();
  if (w0 != ' ') push(' ');
  if (addressed) {
    // The row beside the word's own in the profanity head's table: the same cache line, already read.
    const uint32_t beside = 1u << (bucket_bits - std::min(profanity_bits, bucket_bits));
    for (int k = 0; k < held_words; ++k) bucket(Bucket(words[k], bucket_bits) ^ beside, kAddressedBlock);
    out.addressed_features = held_words;
    CHATPIPE_STEPS(held_words);
  }
  return out;
}

// 1/sqrt(count): each block of every text has the same length whatever the text's.
float BlockValue(uint32_t features) { return 1.0f / std::sqrt(static_cast<float>(std::max<uint32_t>(features, 1))); }

// The lexicon's features of a message, dense (kExtras values).
void Extras(const Evidence& e, bool question, float out[kExtras]) {
  std::fill(out, out + kExtras, 0.0f);
  out[kBias] = 1;
  out[kScore] = static_cast<float>(e.score);
  const double s = e.score;
  out[s <= -0.5 ? kVeryNegative : s <= -kNeutralBand ? kNegative : s < kNeutralBand ? kNeutral
      : s < 0.5 ? kPositive : kVeryPositive] = 1;
  out[kQuestion] = question;
  out[kEmojiPositive] = e.emoji_positive;
  out[kEmojiNegative] = e.emoji_negative;
  out[kProfane] = e.profane;
  out[kLangEn + std::clamp(e.lang, 0, kLangs - 1)] = 1;
}

// Keeps of the extras only what the text says by itself: the bias, whether it asks, its language.
void DropEvidence(float extras[kExtras]) {
  for (int k : {kScore, kVeryNegative, kNegative, kNeutral, kPositive, kVeryPositive, kEmojiPositive, kEmojiNegative,
                kProfane})
    extras[k] = 0;
}

// Whether a head reads a feature of a block, and its value there: each block's 1/sqrt(its count) for that
// head (the profanity head's character block holds a third of the character features; its words are one
// block with the addressed words).
struct BlockValues {
  float of[kHeads][kBlocks];
};
BlockValues Values(const TextSummary& t) {
  const float chars = BlockValue(t.char_features), words = BlockValue(t.word_features),
              profanity_chars = BlockValue(t.char_features / 3),
              profanity_words = BlockValue(t.word_features + t.addressed_features);
  return {{{chars, words, chars, 0}, {0, profanity_words, profanity_chars, profanity_words}}};
}

// A message as training sees it, per head: the buckets it reads (with repeats) at one value each; and
// its extras.
struct Sparse {
  std::vector<uint32_t> buckets[kHeads];
  std::vector<float> values[kHeads];
  float extras[kExtras];
};

Sparse Featurize(const LabelledMessage& m, const LearnedSettings& s) {
  Sparse x;
  std::vector<uint32_t> buckets;
  std::vector<uint8_t> blocks;
  const TextSummary t = ForEachFeature(m.text, s.bucket_bits, s.profanity_bits, [&](uint32_t b, int block) {
    buckets.push_back(b);
    blocks.push_back(static_cast<uint8_t>(block));
  });
  const BlockValues v = Values(t);
  for (int h = 0; h < kHeads; ++h)
    for (size_t j = 0; j < buckets.size(); ++j)
      if (const float value = v.of[h][blocks[j]]; value != 0) {
        x.buckets[h].push_back(buckets[j]);
        x.values[h].push_back(value);
      }
  Extras(m.evidence, t.question, x.extras);
  return x;
}

// The softmax of z, in place.
void Softmax(double z[kClasses]) {
  const double top = *std::max_element(z, z + kClasses);
  double sum = 0;
  for (int c = 0; c < kClasses; ++c) sum += (z[c] = std::exp(z[c] - top));
  for (int c = 0; c < kClasses; ++c) z[c] /= sum;
}

int ArgMax(const double z[kClasses]) { return static_cast<int>(std::max_element(z, z + kClasses) - z); }

// mulberry32 (as bench/accuracy/learned.js): small, seeded, the same sequence everywhere.
struct Mulberry32 {
  uint32_t a;
  uint32_t Next() {
    a += 0x6d2b79f5;
    uint32_t t = a;
    t = (t ^ (t >> 15)) * (t | 1);
    t ^= t + (t ^ (t >> 7)) * (t | 61);
    return t ^ (t >> 14);
  }
};

double F1(int tp, int fp, int fn) { return tp == 0 ? 0 : 2.0 * tp / (2.0 * tp + fp + fn); }

double MacroF1(const int confusion[kClasses][kClasses]) {
  double sum = 0;
  for (int k = 0; k < kClasses; ++k) {
    int fp = 0, fn = 0;
    for (int j = 0; j < kClasses; ++j) {
      if (j == k) continue;
      fp += confusion[j][k];
      fn += confusion[k][j];
    }
    sum += F1(confusion[k][k], fp, fn);
  }
  return sum / kClasses;
}

}  // namespace

int LexiconClass(double score) { return score >= kNeutralBand ? 0 : score <= -kNeutralBand ? 1 : 2; }

Status ReadDevelopmentSets(LexiconReader& reader, std::vector<LabelledMessage>* out) {
  auto index = [](const char* const* labels, std::string_view label) {
    for (int k = 0; k < kClasses; ++k)
      if (label == labels[k]) return k;
    return -1;
  };
  for (int set = 0; set <= kDevelopmentSets * kLangs; ++set) {
    const bool look_alikes = set == kDevelopmentSets * kLangs;
    const std::string name = look_alikes ? kLookAlikeSet
                                         : std::string("eval/") + kDevelopmentSetNames[set / kLangs] +
                                               kLangCodes[set % kLangs] + ".tsv";
    Status st = reader.ForEachLine(name, [&](const Fields& f) {
      if (f.size() < 4) return LexiconError("want lang, sentiment, profanity and text");
      LabelledMessage m;
      if (Status e = ParseLang(f[0], &m.lang); !e.ok()) return e;
      m.sentiment = index(kSentimentLabels, f[1]);
      if (m.sentiment < 0) return LexiconError("unknown sentiment " + std::string(f[1]));
      m.profanity = index(kProfanityLabels, f[2]);
      if (m.profanity < 0) return LexiconError("unknown profanity level " + std::string(f[2]));
      if (look_alikes) m.sentiment = kUnlabelled;
      // The fields are views of one line: the text runs from the fourth to the end of the last.
      m.text.assign(f[3].data(), f.back().data() + f.back().size());
      out->push_back(std::move(m));
      return Status::Ok();
    });
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

void LearnedModel::Train(const std::vector<LabelledMessage>& messages, const LearnedSettings& settings) {
  settings_ = settings;
  settings_.profanity_bits = std::min(settings.profanity_bits, settings.bucket_bits);
  const int bits[kHeads] = {settings_.bucket_bits, settings_.profanity_bits};
  // Each weight beside its AdaGrad sum of squares, a feature's classes side by side, in float: an update
  // touches one cache line, and Load trains in three quarters of the time it took in doubles, to the same
  // figures (bench/README.md, "accuracy"). Updates to one weight keep the text's order.
  struct Slot {
    float w = 0, g2 = 0;
  };
  std::vector<Slot> slots[kHeads];
  for (int h = 0; h < kHeads; ++h) slots[h].resize(((size_t{1} << bits[h]) + kExtras) * kClasses);
  // A feature's row in a head's table: the profanity head's is the top bits of the sentiment head's.
  auto row = [&](int h, uint32_t bucket) { return size_t{bucket >> (bits[kSentimentHead] - bits[h])}; };
  std::vector<Sparse> xs;
  xs.reserve(messages.size());
  for (const LabelledMessage& m : messages) xs.push_back(Featurize(m, settings));
  const float l2 = static_cast<float>(settings.l2), rate = static_cast<float>(settings.rate);
  auto update = [&](Slot& s, float grad) {
    grad += l2 * s.w;
    s.g2 += grad * grad;
    s.w -= rate * grad / std::sqrt(s.g2 + 1e-12f);
  };
  Mulberry32 rng{settings.seed};
  std::vector<size_t> order(xs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (int epoch = 0; epoch < settings.epochs; ++epoch) {
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.Next() % i]);  // Fisher-Yates
    for (size_t e : order) {
      const Sparse& x = xs[e];
      float extras[kExtras];
      std::copy(x.extras, x.extras + kExtras, extras);
      if (rng.Next() < settings.evidence_dropout * 4294967296.0) DropEvidence(extras);
      const int truth[kHeads] = {messages[e].sentiment, messages[e].profanity};
      for (int h = 0; h < kHeads; ++h) {
        // A head learns nothing from a message its label is missing for: not even its penalty.
        if (truth[h] == kUnlabelled) continue;
        Slot* w = slots[h].data();
        const size_t extra_row = size_t{1} << bits[h];
        double z[kClasses] = {};
        const std::vector<uint32_t>& buckets = x.buckets[h];
        const std::vector<float>& values = x.values[h];
        for (size_t j = 0; j < buckets.size(); ++j)
          for (int c = 0; c < kClasses; ++c) z[c] += w[row(h, buckets[j]) * kClasses + c].w * values[j];
        for (int k = 0; k < kExtras; ++k)
          if (HeadReads(h, k))
            for (int c = 0; c < kClasses; ++c) z[c] += w[(extra_row + k) * kClasses + c].w * extras[k];
        Softmax(z);
        double err[kClasses];
        for (int c = 0; c < kClasses; ++c) err[c] = z[c] - (truth[h] == c ? 1 : 0);
        for (size_t j = 0; j < buckets.size(); ++j)
          for (int c = 0; c < kClasses; ++c) update(w[row(h, buckets[j]) * kClasses + c], err[c] * values[j]);
        for (int k = 0; k < kExtras; ++k)
          if (extras[k] != 0 && HeadReads(h, k))
            for (int c = 0; c < kClasses; ++c) update(w[(extra_row + k) * kClasses + c], err[c] * extras[k]);
      }
    }
  }
  // The text's rows in fixed point (integer sums have no rounding order and a one-cycle add), each as
  // its classes 1 and 2 less its class 0: a softmax reads only differences, and two weights a row
  // instead of three are a third less memory and fewer sums to keep; the lexicon's few rows as they are.
  for (int h = 0; h < kHeads; ++h) {
    const size_t rows = size_t{1} << bits[h];
    Table& t = heads_[h];
    t.text.resize(rows * kStored);
    for (size_t r = 0; r < rows; ++r)
      for (int c = 1; c < kClasses; ++c) {
        const double w = slots[h][r * kClasses + c].w - slots[h][r * kClasses].w;
        t.text[r * kStored + c - 1] = static_cast<Weight>(std::lround(std::clamp(w, -kMaxWeight, kMaxWeight) * kFixedOne));
      }
    t.extras.clear();
    for (size_t i = rows * kClasses; i < slots[h].size(); ++i) t.extras.push_back(slots[h][i].w);
  }
}

namespace {

template <class T>
void Put(std::string* out, const T& v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <class T>
bool Take(std::string_view* in, T* v) {
  if (in->size() < sizeof *v) return false;
  std::memcpy(v, in->data(), sizeof *v);
  in->remove_prefix(sizeof *v);
  return true;
}

}  // namespace

std::string LearnedModel::ToBytes() const {
  std::string out;
  Put(&out, settings_.bucket_bits);
  Put(&out, settings_.profanity_bits);
  Put(&out, settings_.epochs);
  Put(&out, settings_.rate);
  Put(&out, settings_.l2);
  Put(&out, settings_.evidence_dropout);
  Put(&out, settings_.seed);
  for (const Table& t : heads_) {
    Put(&out, static_cast<uint64_t>(t.text.size()));
    out.append(reinterpret_cast<const char*>(t.text.data()), t.text.size() * sizeof(Weight));
    Put(&out, static_cast<uint64_t>(t.extras.size()));
    out.append(reinterpret_cast<const char*>(t.extras.data()), t.extras.size() * sizeof(double));
  }
  return out;
}

bool LearnedModel::FromBytes(std::string_view in) {
  LearnedSettings s;
  if (!Take(&in, &s.bucket_bits) || !Take(&in, &s.profanity_bits) || !Take(&in, &s.epochs) || !Take(&in, &s.rate) ||
      !Take(&in, &s.l2) || !Take(&in, &s.evidence_dropout) || !Take(&in, &s.seed))
    return false;
  if (s.bucket_bits < 1 || s.bucket_bits > 24 || s.profanity_bits < 1 || s.profanity_bits > s.bucket_bits) return false;
  const int bits[kHeads] = {s.bucket_bits, s.profanity_bits};
  Table heads[kHeads];
  for (int h = 0; h < kHeads; ++h) {
    uint64_t n = 0, extras = 0;
    if (!Take(&in, &n) || n != (uint64_t{1} << bits[h]) * kStored || in.size() < n * sizeof(Weight)) return false;
    heads[h].text.resize(n);
    std::memcpy(heads[h].text.data(), in.data(), n * sizeof(Weight));
    in.remove_prefix(n * sizeof(Weight));
    if (!Take(&in, &extras) || extras != uint64_t{kExtras} * kClasses || in.size() < extras * sizeof(double))
      return false;
    heads[h].extras.resize(extras);
    std::memcpy(heads[h].extras.data(), in.data(), extras * sizeof(double));
    in.remove_prefix(extras * sizeof(double));
  }
  if (!in.empty()) return false;
  settings_ = s;
  for (int h = 0; h < kHeads; ++h) heads_[h] = std::move(heads[h]);
  return true;
}

Prediction LearnedModel::Predict(std::string_view text, const Evidence& evidence, bool profanity) const {
  return profanity ? PredictHeads<true>(text, evidence) : PredictHeads<false>(text, evidence);
}

// Predict, compiled once with the profanity head and once without, so that neither tests it per feature.
template <bool kProfanity>
Prediction LearnedModel::PredictHeads(std::string_view text, const Evidence& evidence) const {
  const Weight* sentiment = heads_[kSentimentHead].text.data();
  const Weight* profanity = heads_[kProfanityHead].text.data();
  const int shift = settings_.bucket_bits - settings_.profanity_bits;
  // Per block, the sums of each head's two stored classes, in plain variables rather than arrays, so that
  // the compiler keeps them in registers (arrays indexed by block were added to in memory: a third of the
  // tagger's time).
  int64_t cs1 = 0, cs2 = 0, cp1 = 0, cp2 = 0, ws1 = 0, ws2 = 0, wp1 = 0, wp2 = 0;
  static_assert(kStored == 2);
  const TextSummary t = ForEachFeature(text, settings_.bucket_bits, settings_.profanity_bits, [&](uint32_t b, int block) {
    if (block == kAddressedBlock) {
      if (!kProfanity) return;
      const Weight* p = profanity + (b >> shift) * kStored;
      wp1 += p[0], wp2 += p[1];
      return;
    }
    const Weight* s = sentiment + b * kStored;
    if (block == kWordBlock) {
      ws1 += s[0], ws2 += s[1];
      if (!kProfanity) return;
      const Weight* p = profanity + (b >> shift) * kStored;
      wp1 += p[0], wp2 += p[1];
      return;
    }
    cs1 += s[0], cs2 += s[1];
    if (kProfanity && block == kProfanityCharBlock) {
      const Weight* p = profanity + (b >> shift) * kStored;
      cp1 += p[0], cp2 += p[1];
    }
  });
  const BlockValues v = Values(t);
  const double value[kHeads][2] = {{v.of[kSentimentHead][kCharBlock] / kFixedOne, v.of[kSentimentHead][kWordBlock] / kFixedOne},
                                   {v.of[kProfanityHead][kProfanityCharBlock] / kFixedOne, v.of[kProfanityHead][kWordBlock] / kFixedOne}};
  const int64_t chars[kHeads][kStored] = {{cs1, cs2}, {cp1, cp2}}, words[kHeads][kStored] = {{ws1, ws2}, {wp1, wp2}};
  float extras[kExtras];
  Extras(evidence, t.question, extras);
  double z[kHeads][kClasses];  // each class's logit less class 0's
  for (int h = 0; h < (kProfanity ? kHeads : 1); ++h) {
    z[h][0] = 0;
    for (int c = 1; c < kClasses; ++c) z[h][c] = chars[h][c - 1] * value[h][0] + words[h][c - 1] * value[h][1];
    // Every extra, with no test of HeadReads: training never moves a weight its head does not read
    // from 0. A branch an extra was 3% of the tagger's instructions (callgrind tag_60).
    const double* w = heads_[h].extras.data();
    for (int k = 0; k < kExtras; ++k, w += kClasses) {
      z[h][1] += (w[1] - w[0]) * extras[k];
      z[h][2] += (w[2] - w[0]) * extras[k];
    }
  }
  CHATPIPE_STEPS(kExtras);
  Prediction p;
  p.sentiment = ArgMax(z[kSentimentHead]);
  if constexpr (kProfanity) {
    Softmax(z[kProfanityHead]);
    p.profane = static_cast<float>(z[kProfanityHead][1] + z[kProfanityHead][2]);
    p.strong = z[kProfanityHead][2] >= z[kProfanityHead][1];
  }
  return p;
}

uint32_t LearnedFeatureFingerprint(const LearnedSettings& settings) {
  uint32_t h = kFnvBasis;
  for (std::string_view probe : {"you know where i live? tu casa... vc sabe", "¿Qué PASÓ, güey? 🙂 123 jajaja"}) {
    const TextSummary t = ForEachFeature(probe, settings.bucket_bits, settings.profanity_bits, [&](uint32_t b, int block) {
      h = ((h ^ b) * kFnvPrime ^ static_cast<uint32_t>(block)) * kFnvPrime;
    });
    for (uint32_t n : {t.char_features, t.word_features, t.addressed_features, static_cast<uint32_t>(t.question)})
      h = (h ^ n) * kFnvPrime;
  }
  return h;
}

CrossValidation CrossValidate(const std::vector<LabelledMessage>& messages, const LearnedSettings& settings,
                              int folds) {
  int lexicon[kLangs][kClasses][kClasses] = {};  // [lang][truth][said]
  int learned[kLangs][kClasses][kClasses] = {};
  int lists[kLangs][2][2] = {}, with_head[kLangs][2][2] = {};  // [lang][truth profane][said profane]
  CrossValidation out;
  for (int fold = 0; fold < folds; ++fold) {
    std::vector<LabelledMessage> train;
    for (size_t i = 0; i < messages.size(); ++i)
      if (static_cast<int>(i % folds) != fold) train.push_back(messages[i]);
    LearnedModel model;
    model.Train(train, settings);
    for (size_t i = fold; i < messages.size(); i += folds) {
      const LabelledMessage& m = messages[i];
      const Prediction p = model.Predict(m.text, m.evidence);
      if (m.sentiment != kUnlabelled) {
        ++lexicon[m.lang][m.sentiment][LexiconClass(m.evidence.score)];
        ++learned[m.lang][m.sentiment][p.sentiment];
      }
      const bool profane = m.profanity != 0, head = !m.evidence.profane && LearnedProfane(p);
      ++lists[m.lang][profane][m.evidence.profane];
      ++with_head[m.lang][profane][m.evidence.profane || head];
      (profane ? out.head_right : out.head_wrong)[m.lang] += head;
      ++out.messages[m.lang];
    }
  }
  auto binary_f1 = [](const int c[2][2]) { return F1(c[1][1], c[0][1], c[1][0]); };
  for (int lang = 0; lang < kLangs; ++lang) {
    out.lexicon[lang] = MacroF1(lexicon[lang]);
    out.learned[lang] = MacroF1(learned[lang]);
    out.lists_profanity[lang] = binary_f1(lists[lang]);
    out.with_head_profanity[lang] = binary_f1(with_head[lang]);
  }
  return out;
}

}  // namespace chatpipe::analysis
