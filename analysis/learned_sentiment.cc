#include "analysis/learned_sentiment.h"

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

constexpr uint32_t kFnvBasis = 0x811c9dc5, kFnvPrime = 0x01000193;
constexpr uint32_t kVariationSelector = 0xFE0F;
// The text's weights are stored as 16-bit integers in units of 2^-12, half the memory of 32 bits (Predict
// reads a random row per feature). Trained weights stay well inside the clamp (|w| < 4 on the shipped
// sets); the rounding moves a logit by less than 0.01.
using Weight = LearnedSentiment::Weight;
constexpr double kFixedOne = 1 << 12, kMaxWeight = 32767 / kFixedOne;

// An FNV hash to one of 2^bits buckets: Fibonacci hashing keeps the well-mixed high bits.
inline uint32_t Bucket(uint32_t h, int bits) { return (h * 0x9E3779B1u) >> (32 - bits); }

// What ForEachFeature counts: each block's features, and whether the text asks.
struct TextSummary {
  uint32_t char_features = 0, word_features = 0;
  bool question = false;
};

// The two blocks of the text's features. Each is scaled to unit length apart: together, the many
// character n-grams outweighed the few words, and held-out batches of the development sets scored
// 0.005-0.01 higher with the blocks apart (bench/README.md, "accuracy").
enum Block : int { kCharBlock, kWordBlock };

// Calls bucket(b, block) for every feature of the text: in the character block, each character 3-, 4-
// and 5-gram of the folded text, padded by a space at each end (and by "no character" before the first),
// runs of spaces read as one; in the word block, each word (letters, digits, other scripts) and each
// pair of consecutive words. Folding: letters to their lower-case base (chars.h), combining marks and
// emoji variation selectors dropped, everything else (digits, emoji, punctuation) kept as it is. Single
// characters and 2-grams are left out: on held-out batches they add nothing the rest does not say
// (0.902 with 2-grams, 0.899 without, in English), and 2-grams cost a fifth of the tagger's time.
template <class Fn>
TextSummary ForEachFeature(std::string_view text, int bucket_bits, Fn&& bucket) {
  TextSummary out;
  uint32_t w0 = ' ', w1 = 0, w2 = 0, w3 = 0, w4 = 0;  // the last five folded characters, newest first
  uint32_t word = kFnvBasis ^ 'w', previous_word = 0;
  bool in_word = false;
  auto push = [&](uint32_t c) {
    w4 = w3;
    w3 = w2;
    w2 = w1;
    w1 = w0;
    w0 = c;
    const uint32_t h1 = ((kFnvBasis ^ 'c') ^ w0) * kFnvPrime;
    const uint32_t h2 = (h1 ^ w1) * kFnvPrime, h3 = (h2 ^ w2) * kFnvPrime, h4 = (h3 ^ w3) * kFnvPrime;
    bucket(Bucket(h3, bucket_bits), kCharBlock);
    bucket(Bucket(h4, bucket_bits), kCharBlock);
    bucket(Bucket((h4 ^ w4) * kFnvPrime, bucket_bits), kCharBlock);
    out.char_features += 3;
    CHATPIPE_STEPS(3);
  };
  auto end_word = [&] {
    if (!in_word) return;
    bucket(Bucket(word, bucket_bits), kWordBlock);
    ++out.word_features;
    if (previous_word != 0) {
      bucket(Bucket((((kFnvBasis ^ 'b') ^ previous_word) * kFnvPrime ^ word) * kFnvPrime, bucket_bits), kWordBlock);
      ++out.word_features;
    }
    previous_word = word;
    word = kFnvBasis ^ 'w';
    in_word = false;
  };
  CHATPIPE_STEPS(text.size());  // the decode
  for (size_t i = 0; i < text.size();) {
    const Char c = Decode(text, i);
    i += c.len;
    const Kind kind = c.info.kind;
    if (kind == kMark || c.cp == kVariationSelector) continue;
    uint32_t folded = c.cp;
    if (kind == kLetter || kind == kDigit || kind == kLeet) folded = static_cast<unsigned char>(c.info.fold);
    else if (kind == kSpace) folded = ' ';
    out.question |= c.cp == '?' || c.cp == 0xBF;  // '¿'
    if (kind == kLetter || kind == kDigit || kind == kOpaque) {
      word = (word ^ folded) * kFnvPrime;
      in_word = true;
    } else {
      end_word();
    }
    if (folded == ' ' && w0 == ' ') continue;
    push(folded);
  }
  end_word();
  if (w0 != ' ') push(' ');
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

// A message as training sees it: its buckets (with repeats) at one value each, and its extras.
struct Sparse {
  std::vector<uint32_t> buckets;
  std::vector<float> values;  // each bucket's block's BlockValue
  float extras[kExtras];
};

Sparse Featurize(const LabelledMessage& m, const LearnedSettings& s) {
  Sparse x;
  std::vector<uint8_t> blocks;
  const TextSummary t = ForEachFeature(m.text, s.bucket_bits, [&](uint32_t b, int block) {
    x.buckets.push_back(b);
    blocks.push_back(static_cast<uint8_t>(block));
  });
  const float value[2] = {BlockValue(t.char_features), BlockValue(t.word_features)};
  x.values.reserve(blocks.size());
  for (uint8_t b : blocks) x.values.push_back(value[b]);
  Extras(m.evidence, t.question, x.extras);
  return x;
}

// The softmax of z, in place.
void Softmax(double z[kSentimentClasses]) {
  const double top = *std::max_element(z, z + kSentimentClasses);
  double sum = 0;
  for (int c = 0; c < kSentimentClasses; ++c) sum += (z[c] = std::exp(z[c] - top));
  for (int c = 0; c < kSentimentClasses; ++c) z[c] /= sum;
}

int ArgMax(const double z[kSentimentClasses]) {
  return static_cast<int>(std::max_element(z, z + kSentimentClasses) - z);
}

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

double MacroF1(const int confusion[kSentimentClasses][kSentimentClasses]) {
  double sum = 0;
  for (int k = 0; k < kSentimentClasses; ++k) {
    int fp = 0, fn = 0;
    for (int j = 0; j < kSentimentClasses; ++j) {
      if (j == k) continue;
      fp += confusion[j][k];
      fn += confusion[k][j];
    }
    sum += F1(confusion[k][k], fp, fn);
  }
  return sum / kSentimentClasses;
}

}  // namespace

int LexiconClass(double score) { return score >= kNeutralBand ? 0 : score <= -kNeutralBand ? 1 : 2; }

Status ReadDevelopmentSets(LexiconReader& reader, std::vector<LabelledMessage>* out) {
  for (int set = 0; set < kDevelopmentSets * kLangs; ++set) {
    const std::string name =
        std::string("eval/") + kDevelopmentSetNames[set / kLangs] + kLangCodes[set % kLangs] + ".tsv";
    Status st = reader.ForEachLine(name, [&](const Fields& f) {
      if (f.size() < 4) return LexiconError("want lang, sentiment, profanity and text");
      LabelledMessage m;
      if (Status e = ParseLang(f[0], &m.lang); !e.ok()) return e;
      const auto* label = std::find(kSentimentLabels, kSentimentLabels + kSentimentClasses, f[1]);
      if (label == kSentimentLabels + kSentimentClasses) return LexiconError("unknown sentiment " + std::string(f[1]));
      m.label = static_cast<int>(label - kSentimentLabels);
      // The fields are views of one line: the text runs from the fourth to the end of the last.
      m.text.assign(f[3].data(), f.back().data() + f.back().size());
      out->push_back(std::move(m));
      return Status::Ok();
    });
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

void LearnedSentiment::Train(const std::vector<LabelledMessage>& messages, const LearnedSettings& settings) {
  settings_ = settings;
  const size_t rows = (size_t{1} << settings.bucket_bits) + kExtras;
  // Each weight beside its AdaGrad sum of squares, a feature's three classes side by side, in float: an
  // update touches one cache line, and Load trains in three quarters of the time it took in doubles, to
  // the same figures (bench/README.md, "accuracy"). Updates to one weight keep the text's order.
  struct Slot {
    float w = 0, g2 = 0;
  };
  std::vector<Slot> slots(rows * kSentimentClasses);
  std::vector<Sparse> xs;
  xs.reserve(messages.size());
  for (const LabelledMessage& m : messages) xs.push_back(Featurize(m, settings));
  const uint32_t extra_row = 1u << settings.bucket_bits;
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
      double z[kSentimentClasses] = {};
      for (size_t j = 0; j < x.buckets.size(); ++j)
        for (int c = 0; c < kSentimentClasses; ++c) z[c] += slots[x.buckets[j] * kSentimentClasses + c].w * x.values[j];
      for (int k = 0; k < kExtras; ++k)
        for (int c = 0; c < kSentimentClasses; ++c) z[c] += slots[(extra_row + k) * kSentimentClasses + c].w * extras[k];
      Softmax(z);
      double err[kSentimentClasses];
      for (int c = 0; c < kSentimentClasses; ++c) err[c] = z[c] - (messages[e].label == c ? 1 : 0);
      for (size_t j = 0; j < x.buckets.size(); ++j)
        for (int c = 0; c < kSentimentClasses; ++c) update(slots[x.buckets[j] * kSentimentClasses + c], err[c] * x.values[j]);
      for (int k = 0; k < kExtras; ++k)
        if (extras[k] != 0)
          for (int c = 0; c < kSentimentClasses; ++c)
            update(slots[(extra_row + k) * kSentimentClasses + c], err[c] * extras[k]);
    }
  }
  // The text's rows in fixed point (integer sums have no rounding order and a one-cycle add); the
  // lexicon's few rows as they are.
  const size_t text_weights = size_t{extra_row} * kSentimentClasses;
  weights_.resize(text_weights);
  for (size_t i = 0; i < text_weights; ++i)
    weights_[i] =
        static_cast<Weight>(std::lround(std::clamp(static_cast<double>(slots[i].w), -kMaxWeight, kMaxWeight) * kFixedOne));
  extra_weights_.clear();
  for (size_t i = text_weights; i < slots.size(); ++i) extra_weights_.push_back(slots[i].w);
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

std::string LearnedSentiment::ToBytes() const {
  std::string out;
  Put(&out, settings_.bucket_bits);
  Put(&out, settings_.epochs);
  Put(&out, settings_.rate);
  Put(&out, settings_.l2);
  Put(&out, settings_.evidence_dropout);
  Put(&out, settings_.seed);
  Put(&out, static_cast<uint64_t>(weights_.size()));
  out.append(reinterpret_cast<const char*>(weights_.data()), weights_.size() * sizeof(Weight));
  Put(&out, static_cast<uint64_t>(extra_weights_.size()));
  out.append(reinterpret_cast<const char*>(extra_weights_.data()), extra_weights_.size() * sizeof(double));
  return out;
}

bool LearnedSentiment::FromBytes(std::string_view in) {
  LearnedSettings s;
  uint64_t n = 0, extras = 0;
  if (!Take(&in, &s.bucket_bits) || !Take(&in, &s.epochs) || !Take(&in, &s.rate) || !Take(&in, &s.l2) ||
      !Take(&in, &s.evidence_dropout) || !Take(&in, &s.seed) || !Take(&in, &n))
    return false;
  if (s.bucket_bits < 1 || s.bucket_bits > 24 || n != (uint64_t{1} << s.bucket_bits) * kSentimentClasses ||
      in.size() < n * sizeof(Weight))
    return false;
  std::vector<Weight> weights(n);
  std::memcpy(weights.data(), in.data(), n * sizeof(Weight));
  in.remove_prefix(n * sizeof(Weight));
  if (!Take(&in, &extras) || extras != uint64_t{kExtras} * kSentimentClasses || in.size() != extras * sizeof(double))
    return false;
  std::vector<double> extra_weights(extras);
  std::memcpy(extra_weights.data(), in.data(), in.size());
  settings_ = s;
  weights_ = std::move(weights);
  extra_weights_ = std::move(extra_weights);
  return true;
}

int LearnedSentiment::Predict(std::string_view text, const Evidence& evidence) const {
  const Weight* w = weights_.data();
  // Plain accumulators (three classes, two blocks), not arrays, so that the compiler may keep them in registers.
  int64_t s0 = 0, s1 = 0, s2 = 0, u0 = 0, u1 = 0, u2 = 0;
  static_assert(kSentimentClasses == 3);
  const TextSummary t = ForEachFeature(text, settings_.bucket_bits, [&](uint32_t b, int block) {
    const Weight* row = w + b * kSentimentClasses;
    if (block == kCharBlock) {
      s0 += row[0];
      s1 += row[1];
      s2 += row[2];
    } else {
      u0 += row[0];
      u1 += row[1];
      u2 += row[2];
    }
  });
  const double cv = BlockValue(t.char_features) / kFixedOne, wv = BlockValue(t.word_features) / kFixedOne;
  const double sum[kSentimentClasses] = {s0 * cv + u0 * wv, s1 * cv + u1 * wv, s2 * cv + u2 * wv};
  float extras[kExtras];
  Extras(evidence, t.question, extras);
  double z[kSentimentClasses];
  for (int c = 0; c < kSentimentClasses; ++c) {
    z[c] = sum[c];
    for (int k = 0; k < kExtras; ++k) z[c] += extra_weights_[k * kSentimentClasses + c] * extras[k];
  }
  CHATPIPE_STEPS(kExtras);
  return ArgMax(z);
}

CrossValidation CrossValidate(const std::vector<LabelledMessage>& messages, const LearnedSettings& settings,
                              int folds) {
  int lexicon[kLangs][kSentimentClasses][kSentimentClasses] = {};  // [lang][truth][said]
  int learned[kLangs][kSentimentClasses][kSentimentClasses] = {};
  CrossValidation out;
  for (int fold = 0; fold < folds; ++fold) {
    std::vector<LabelledMessage> train;
    for (size_t i = 0; i < messages.size(); ++i)
      if (static_cast<int>(i % folds) != fold) train.push_back(messages[i]);
    LearnedSentiment model;
    model.Train(train, settings);
    for (size_t i = fold; i < messages.size(); i += folds) {
      const LabelledMessage& m = messages[i];
      ++lexicon[m.lang][m.label][LexiconClass(m.evidence.score)];
      ++learned[m.lang][m.label][model.Predict(m.text, m.evidence)];
      ++out.messages[m.lang];
    }
  }
  for (int lang = 0; lang < kLangs; ++lang) {
    out.lexicon[lang] = MacroF1(lexicon[lang]);
    out.learned[lang] = MacroF1(learned[lang]);
  }
  return out;
}

}  // namespace chatpipe::analysis
