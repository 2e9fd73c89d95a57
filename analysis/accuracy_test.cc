// Scores the tagger against the evaluation sets in data/eval (their guide: data/eval/labelling.md). Per
// language, the development set, which the lexicons may be tuned on: every miss is printed, and its
// figures are held to a bar. The holdout is only scored: its figures are printed, its misses are not, so
// that nobody tunes on it (bench/run accuracy reports both beside the peers). The sentiment label comes
// from a learned model trained on the development sets (analysis/learned_model.h): on those sets its
// figures are by cross-validation (LearnedCrossValidation), and the development set's own test scores the
// lexicon's label alone; the holdout is scored both ways.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "analysis/tagger.h"

namespace chatpipe {
namespace {

constexpr std::array<const char*, 3> kLangs = {"en", "es", "pt"};
constexpr std::array<const char*, 3> kSentiments = {"positive", "negative", "neutral"};

struct Example {
  std::string lang, sentiment, text;
  Severity profanity = Severity::kNone;
};

// lang<TAB>sentiment<TAB>none|mild|strong<TAB>text; '#' comments. A malformed line fails the test.
std::vector<Example> ReadSet(const std::string& path) {
  std::vector<Example> out;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Example e;
    std::string level;
    std::getline(fields, e.lang, '\t');
    std::getline(fields, e.sentiment, '\t');
    std::getline(fields, level, '\t');
    std::getline(fields, e.text);
    const std::optional<Severity> parsed = ParseSeverity(level);
    EXPECT_TRUE(parsed && !e.text.empty()) << path << ":" << n << ": " << line;
    e.profanity = parsed.value_or(Severity::kNone);
    out.push_back(std::move(e));
  }
  return out;
}

double F1(int tp, int fp, int fn) { return tp == 0 ? 0 : 2.0 * tp / (2.0 * tp + fp + fn); }

struct Figures {
  size_t messages = 0;
  double sentiment_macro_f1 = 0, profanity_f1 = 0, strong_f1 = 0, language_accuracy = 0;
  int profanity_fp = 0, profanity_fn = 0;
};

int SentimentIndex(const std::string& label) {
  for (size_t k = 0; k < kSentiments.size(); ++k)
    if (label == kSentiments[k]) return static_cast<int>(k);
  return -1;
}

// Tags every example of data/eval/`file` with `options`, printing the figures, a confusion matrix, and
// each miss when `print_misses`.
Figures Evaluate(const Tagger& tagger, const std::string& file, const TagOptions& options, bool print_misses) {
  const std::vector<Example> examples = ReadSet(DefaultTagDataDir() + "/eval/" + file);
  int confusion[3][3] = {};  // [truth][said]
  int bad_tp = 0, bad_fp = 0, bad_fn = 0, strong_tp = 0, strong_fp = 0, strong_fn = 0, lang_ok = 0;
  for (const Example& e : examples) {
    const Tags tags = tagger.Analyze(e.text, options);
    const int truth = SentimentIndex(e.sentiment), said = SentimentIndex(tags.sentiment_label);
    EXPECT_GE(truth, 0) << file << ": " << e.sentiment;
    if (truth >= 0) ++confusion[truth][said];
    const bool bad = e.profanity != Severity::kNone, strong = e.profanity == Severity::kStrong;
    bad_tp += tags.profane && bad;
    bad_fp += tags.profane && !bad;
    bad_fn += !tags.profane && bad;
    const bool said_strong = tags.level == Severity::kStrong;
    strong_tp += said_strong && strong;
    strong_fp += said_strong && !strong;
    strong_fn += !said_strong && strong;
    lang_ok += tags.lang == e.lang;
    if (print_misses && (truth != said || tags.level != e.profanity || tags.lang != e.lang))
      std::printf("  miss: want %s/%s/%s got %s/%s(%.3f)/%s  %s\n", e.lang.c_str(), e.sentiment.c_str(),
                  SeverityName(e.profanity), tags.lang.c_str(), tags.sentiment_label.c_str(), tags.sentiment_score,
                  SeverityName(tags.level), e.text.c_str());
  }
  Figures f;
  f.messages = examples.size();
  std::printf("%s: confusion (rows truth, columns said: positive negative neutral)\n", file.c_str());
  for (int k = 0; k < 3; ++k) {
    int tp = confusion[k][k], fp = 0, fn = 0;
    for (int j = 0; j < 3; ++j) {
      if (j == k) continue;
      fp += confusion[j][k];
      fn += confusion[k][j];
    }
    f.sentiment_macro_f1 += F1(tp, fp, fn) / 3;
    std::printf("  %-8s %4d %4d %4d  F1 %.3f\n", kSentiments[k], confusion[k][0], confusion[k][1], confusion[k][2],
                F1(tp, fp, fn));
  }
  f.profanity_f1 = F1(bad_tp, bad_fp, bad_fn);
  f.profanity_fp = bad_fp;
  f.profanity_fn = bad_fn;
  f.strong_f1 = F1(strong_tp, strong_fp, strong_fn);
  f.language_accuracy = examples.empty() ? 0 : static_cast<double>(lang_ok) / examples.size();
  std::printf("%s (sentiment label: %s): %zu messages, sentiment macro-F1 %.3f, profanity F1 %.3f (fp %d, fn %d), strong F1 %.3f, "
              "language accuracy %.3f\n",
              file.c_str(), options.learned_sentiment ? "learned" : "lexicon", f.messages, f.sentiment_macro_f1, f.profanity_f1, bad_fp, bad_fn, f.strong_f1,
              f.language_accuracy);
  return f;
}

class TaggerAccuracy : public ::testing::TestWithParam<const char*> {
 protected:
  static void SetUpTestSuite() {
    auto loaded = Tagger::Load(DefaultTagDataDir());
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    tagger_ = std::move(*loaded).release();
  }
  static void TearDownTestSuite() {
    delete tagger_;
    tagger_ = nullptr;
  }
  static const Tagger* tagger_;
};
const Tagger* TaggerAccuracy::tagger_ = nullptr;

TEST_P(TaggerAccuracy, DevelopmentSet) {
  TagOptions lexicon_only;
  lexicon_only.learned_sentiment = lexicon_only.learned_profanity = false;  // the model learned these very messages
  const Figures f = Evaluate(*tagger_, std::string("dev_") + GetParam() + ".tsv", lexicon_only, true);
  ASSERT_GE(f.messages, 800u);
  // A floor, not the target, and only the lexicon's label: two thirds of each set (batches 4 and 5)
  // were written after the word lists were last tuned, and the learned label is what tags ship with
  // (LearnedCrossValidation). On 2026-12-05: 0.736 / 0.817 / 0.795.
  EXPECT_GE(f.sentiment_macro_f1, 0.72);
  EXPECT_GE(f.profanity_f1, 0.97);
  EXPECT_GE(f.language_accuracy, 0.95);
}

// The holdouts, printed (figures only, never their misses): the first (2026-12-04), the second to
// fiftieth written on 2026-12-06 to 8 by other writers. Holdouts 3 to 46 were read (and learned
// from) after their one blind scoring, so 1, 2 and 47 to 50 still estimate accuracy on unseen messages.
TEST_P(TaggerAccuracy, Holdout) {
  TagOptions lexicon_only;
  lexicon_only.learned_sentiment = lexicon_only.learned_profanity = false;
  constexpr int kHoldouts = 50;  // holdout_, holdout2_ ... holdout50_
  for (int n = 1; n <= kHoldouts; ++n) {
    const std::string file =
        "holdout" + (n == 1 ? std::string() : std::to_string(n)) + "_" + std::string(GetParam()) + ".tsv";
    const Figures f = Evaluate(*tagger_, file, lexicon_only, false);
    EXPECT_GE(f.messages, 400u) << file;
    Evaluate(*tagger_, file, {}, false);
  }
}

// Names and look-alikes (names_*, names2_*: 100 clean messages that only look rude, 50 rude ones), each
// scored blind once and then read: development data, held near the profanity figures of tagger 12
// (0-6 false positives in 100, F1 0.943-0.980).
TEST_P(TaggerAccuracy, NamesAndLookAlikes) {
  for (const char* kind : {"names_", "names2_"}) {
    const std::string file = kind + std::string(GetParam()) + ".tsv";
    const Figures f = Evaluate(*tagger_, file, {}, false);
    EXPECT_EQ(f.messages, 150u) << file;
    EXPECT_LE(f.profanity_fp, 6) << file;
    EXPECT_GE(f.profanity_f1, 0.94) << file;
  }
}

// The learned model against the lexicon on the development sets, by 5-fold cross-validation (each
// message labelled by a model that never saw it), with the settings Load trains with: its sentiment label
// against the lexicon's, and the word lists' profanity flag with and without the profanity head. The
// lists were tuned on these very messages, so the head has little left to find here; what it adds on
// text the lists were not tuned on is measured on each new holdout (bench/README.md, "accuracy").
TEST(TaggerAccuracyLearned, LearnedCrossValidation) {
  auto loaded = Tagger::Load(DefaultTagDataDir());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const analysis::CrossValidation cv = (*loaded)->CrossValidateLearned({}, 5);
  for (int lang = 0; lang < 3; ++lang) {
    std::printf("development sets (dev_, the read holdouts, names and look-alikes) %s, 5-fold cross-validation: "
                "%zu messages, sentiment macro-F1 lexicon %.3f, learned %.3f; profanity F1 lists %.3f, with the "
                "profanity head %.3f (it flagged %d rightly, %d wrongly)\n",
                kLangs[lang], cv.messages[lang], cv.lexicon[lang], cv.learned[lang], cv.lists_profanity[lang],
                cv.with_head_profanity[lang], cv.head_right[lang], cv.head_wrong[lang]);
    EXPECT_GE(cv.messages[lang], 800u);
    EXPECT_GE(cv.learned[lang], cv.lexicon[lang]) << kLangs[lang];  // the model keeps its place
    // On 2026-12-06 (tagger 13), with the read holdouts 3-7: 0.913 / 0.935 / 0.927 (tagger 11, dev_ alone:
    // 0.897 / 0.926 / 0.908).
    EXPECT_GE(cv.learned[lang], 0.85) << kLangs[lang];
    // The head may cost a little precision where the lists are right on almost everything, never much.
    EXPECT_GE(cv.with_head_profanity[lang], cv.lists_profanity[lang] - 0.01) << kLangs[lang];
  }
}

INSTANTIATE_TEST_SUITE_P(Languages, TaggerAccuracy, ::testing::ValuesIn(kLangs),
                         [](const ::testing::TestParamInfo<const char*>& p) { return std::string(p.param); });

}  // namespace
}  // namespace chatpipe
