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
// The text's weights are stored as integers in units of 2^-20; no trained weight comes near the clamp.
constexpr double kFixedOne = 1 << 20, kMaxWeight = 1000;

// An FNV hash to one of 2^bits buckets: Fibonacci hashing keeps the well-mixed high bits.
inline uint32_t Bucket(uint32_t h, int bits) { return (h * 0x9E3779B1u) >> (32 - bits); }

struct TextSummary {
  uint32_t features = 0;
  bool question = false;
};

// Calls bucket(b) for every feature of the text: each character 2-, 3- and 4-gram of the folded text,
// padded by a space at each end (and by "no character" before the first), runs of spaces read as one, and
// each word (letters, digits, other scripts). Folding: letters to their lower-case base (chars.h),
// combining marks and emoji variation selectors dropped, everything else (digits, emoji, punctuation)
// kept as it is. Single characters are left out: by cross-validation they add nothing the 2-grams and
// words do not say, and they cost a quarter of the time.
template <class Fn>
TextSummary ForEachFeature(std::string_view text, int bucket_bits, Fn&& bucket) {
  TextSummary out;
  uint32_t w0 = ' ', w1 = 0, w2 = 0, w3 = 0;  // the last four folded characters, newest first
  uint32_t word = kFnvBasis ^ 'w';
  bool in_word = false;
  auto push = [&](uint32_t c) {
    w3 = w2;
    w2 = w1;
    w1 = w0;
    w0 = c;
    const uint32_t h1 = ((kFnvBasis ^ 'c') ^ w0) * kFnvPrime;
    const uint32_t h2 = (h1 ^ w1) * kFnvPrime, h3 = (h2 ^ w2) * kFnvPrime, h4 = (h3 ^ w3) * kFnvPrime;
    bucket(Bucket(h2, bucket_bits));
    bucket(Bucket(h3, bucket_bits));
    bucket(Bucket(h4, bucket_bits));
    out.features += 3;
    CHATPIPE_STEPS(3);
  };
  auto end_word = [&] {
    if (!in_word) return;
    bucket(Bucket(word, bucket_bits));
    ++out.features;
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
  float value = 0;  // 1/sqrt(features): every text has the same weight whatever its length
  float extras[kExtras];
};

Sparse Featurize(const LabelledMessage& m, const LearnedSettings& s) {
  Sparse x;
  const TextSummary t = ForEachFeature(m.text, s.bucket_bits, [&](uint32_t b) { x.buckets.push_back(b); });
  x.value = 1.0f / std::sqrt(static_cast<float>(std::max<uint32_t>(t.features, 1)));
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
  for (int lang = 0; lang < kLangs; ++lang) {
    const std::string name = std::string("eval/dev_") + kLangCodes[lang] + ".tsv";
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
      for (uint32_t b : x.buckets)
        for (int c = 0; c < kSentimentClasses; ++c) z[c] += slots[b * kSentimentClasses + c].w * x.value;
      for (int k = 0; k < kExtras; ++k)
        for (int c = 0; c < kSentimentClasses; ++c) z[c] += slots[(extra_row + k) * kSentimentClasses + c].w * extras[k];
      Softmax(z);
      double err[kSentimentClasses];
      for (int c = 0; c < kSentimentClasses; ++c) err[c] = z[c] - (messages[e].label == c ? 1 : 0);
      for (uint32_t b : x.buckets)
        for (int c = 0; c < kSentimentClasses; ++c) update(slots[b * kSentimentClasses + c], err[c] * x.value);
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
        static_cast<int32_t>(std::lround(std::clamp(static_cast<double>(slots[i].w), -kMaxWeight, kMaxWeight) * kFixedOne));
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
  out.append(reinterpret_cast<const char*>(weights_.data()), weights_.size() * sizeof(int32_t));
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
      in.size() < n * sizeof(int32_t))
    return false;
  std::vector<int32_t> weights(n);
  std::memcpy(weights.data(), in.data(), n * sizeof(int32_t));
  in.remove_prefix(n * sizeof(int32_t));
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
  const int32_t* w = weights_.data();
  // Three plain accumulators, not an array: they stay in registers.
  int64_t s0 = 0, s1 = 0, s2 = 0;
  static_assert(kSentimentClasses == 3);
  const TextSummary t = ForEachFeature(text, settings_.bucket_bits, [&](uint32_t b) {
    const int32_t* row = w + b * kSentimentClasses;
    s0 += row[0];
    s1 += row[1];
    s2 += row[2];
  });
  const int64_t sum[kSentimentClasses] = {s0, s1, s2};
  const double value = 1.0 / std::sqrt(static_cast<double>(std::max<uint32_t>(t.features, 1))) / kFixedOne;
  float extras[kExtras];
  Extras(evidence, t.question, extras);
  double z[kSentimentClasses];
  for (int c = 0; c < kSentimentClasses; ++c) {
    z[c] = static_cast<double>(sum[c]) * value;
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
