// The tagger (Analyze + TagsToJson, as ingress runs it for mask and block rooms) and the mention parser
// do work linear in the text's length, whatever the text. Work is counted in steps (analysis/steps.h:
// one per byte read or entry tried), not timed, so these bounds cannot be flaky. For the worst texts we
// know (analysis/worst_texts.h) and for random texts over the characters that start the costliest
// paths: the steps per byte stay under a fixed bound, and eight times the text costs at most about
// eight times the steps (a rescan, quadratic, would cost 64 times).
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>

#include "analysis/mention_parser.h"
#include "analysis/steps.h"
#include "analysis/tagger.h"
#include "analysis/tagger_suite.h"
#include "analysis/worst_texts.h"

namespace chatpipe::analysis {
namespace {

constexpr uint64_t kMaxTagStepsPerByte = 200;
constexpr uint64_t kMaxMentionStepsPerByte = 4;
// Steps at 8n over steps at n. Not 8 exactly: a verdict can differ between the two lengths, and a message
// the learned model flags has every word masked, a few steps a byte more.
constexpr double kMaxGrowth = 8 * 1.5;

class StepsTest : public TaggerSuite {
 protected:
  static uint64_t TagSteps(const std::string& text) {
    steps = 0;
    TagsToJson(tagger_->Analyze(text));
    return steps;
  }
  static uint64_t MentionSteps(const std::string& text) {
    steps = 0;
    ParseMentions(text);
    return steps;
  }
};

TEST_F(StepsTest, CountsWork) {
  EXPECT_GT(TagSteps("hola que tal"), 12u);
  EXPECT_GT(MentionSteps("hola @ana"), 9u);
}

TEST_F(StepsTest, WorstTextsCostBoundedStepsPerByte) {
  const auto small = WorstTexts(500);
  const auto large = WorstTexts(4000);
  ASSERT_EQ(small.size(), large.size());
  for (size_t k = 0; k < large.size(); ++k) {
    const std::string& text = large[k].text;
    SCOPED_TRACE(large[k].name);
    const uint64_t tag = TagSteps(text), mention = MentionSteps(text);
    EXPECT_LE(tag, kMaxTagStepsPerByte * text.size());
    EXPECT_LE(mention, kMaxMentionStepsPerByte * text.size());
    EXPECT_LE(tag, kMaxGrowth * TagSteps(small[k].text) * text.size() / (8 * small[k].text.size()) + 1000);
    EXPECT_LE(mention, kMaxGrowth * MentionSteps(small[k].text) * text.size() / (8 * small[k].text.size()) + 1000);
  }
}

// Random texts over an alphabet of the characters that open the costly paths: faces, sigils, word
// pieces and their separators, leetspeak, stretched letters, marks, other scripts, invalid bytes.
TEST_F(StepsTest, RandomTextsCostBoundedStepsPerByte) {
  const std::vector<std::string> alphabet = {"^", ":", ")", "(", "=", "<", "3", "_", "@", "#", ".", "-", "*", " ",
                                             "!", "'", "1", "$", "a", "u", "f", "c", "k", "s", "h", "i", "t",
                                             "\xCC\x81", "\xD1\x8F", "\xF0\x9F\x98\x80", "\xFF", "\n"};
  std::mt19937 random(14);
  uint64_t worst_tag = 0, worst_mention = 0;
  for (int round = 0; round < 200; ++round) {
    // Few distinct characters make long runs; many make everything else.
    std::uniform_int_distribution<size_t> pick(0, 1 + round % alphabet.size());
    std::string text;
    while (text.size() < 4000) text += alphabet[pick(random) % alphabet.size()];
    worst_tag = std::max(worst_tag, TagSteps(text) / text.size());
    worst_mention = std::max(worst_mention, MentionSteps(text) / text.size());
  }
  EXPECT_LE(worst_tag, kMaxTagStepsPerByte);
  EXPECT_LE(worst_mention, kMaxMentionStepsPerByte);
}

// The learned model (analysis/learned_model.h) adds a few steps a byte and no more: one decode and
// three n-grams per character, one step per word, and, for a message it flags, a look for masked words
// and every word masked, whatever the text.
TEST_F(StepsTest, LearnedLabelCostsFewStepsPerByte) {
  TagOptions lexicon_only;
  lexicon_only.learned_sentiment = lexicon_only.learned_profanity = false;
  for (const WorstText& w : WorstTexts(4000)) {
    SCOPED_TRACE(w.name);
    steps = 0;
    tagger_->Analyze(w.text, lexicon_only);
    const uint64_t lexicon = steps;
    steps = 0;
    tagger_->Analyze(w.text);
    const uint64_t learned = steps;
    EXPECT_GT(learned, lexicon);  // the model's work is counted
    EXPECT_LE(learned - lexicon, 9 * w.text.size() + 100);
  }
}

}  // namespace
}  // namespace chatpipe::analysis
