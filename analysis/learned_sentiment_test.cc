#include "analysis/learned_sentiment.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "analysis/language.h"

namespace chatpipe::analysis {
namespace {

LabelledMessage Message(std::string text, int label, double score = 0) {
  LabelledMessage m;
  m.text = std::move(text);
  m.label = label;
  m.evidence.score = score;
  return m;
}

// Words that decide the class alone, with no help from the lexicon's evidence (all zero).
std::vector<LabelledMessage> Separable() {
  std::vector<LabelledMessage> out;
  for (const char* w : {"zorp", "zorp zorp", "the zorp", "zorp it", "a zorp day"}) out.push_back(Message(w, 0));
  for (const char* w : {"gleb", "gleb gleb", "the gleb", "gleb it", "a gleb day"}) out.push_back(Message(w, 1));
  for (const char* w : {"quux", "quux quux", "the quux", "quux it", "a quux day"}) out.push_back(Message(w, 2));
  return out;
}

TEST(LearnedSentiment, LearnsASeparableSet) {
  LearnedSentiment model;
  EXPECT_FALSE(model.trained());
  LearnedSettings settings;
  settings.bucket_bits = 12;
  model.Train(Separable(), settings);
  ASSERT_TRUE(model.trained());
  for (const LabelledMessage& m : Separable()) EXPECT_EQ(model.Predict(m.text, m.evidence), m.label) << m.text;
  // Unseen texts with the deciding word, folded: case and accents do not matter.
  EXPECT_EQ(model.Predict("ZÓRP!", {}), 0);
  EXPECT_EQ(model.Predict("so gleb", {}), 1);
  EXPECT_EQ(model.Predict("Quux?", {}), 2);
}

TEST(LearnedSentiment, LearnsFromTheLexiconsEvidence) {
  // The same text in every class: only the lexicon's score tells them apart.
  std::vector<LabelledMessage> set;
  for (int k = 0; k < 4; ++k) {
    set.push_back(Message("same words", 0, 0.8));
    set.push_back(Message("same words", 1, -0.8));
    set.push_back(Message("same words", 2, 0));
  }
  LearnedSentiment model;
  model.Train(set);
  Evidence e;
  e.score = 0.7;
  EXPECT_EQ(model.Predict("same words", e), 0);
  e.score = -0.7;
  EXPECT_EQ(model.Predict("same words", e), 1);
  e.score = 0;
  EXPECT_EQ(model.Predict("same words", e), 2);
}

// Words the lexicon also scores: with its evidence dropped from part of the training, the text's own
// weights learn them too, so a new message whose words the lexicon lacks is still read.
TEST(LearnedSentiment, TheTextLearnsWhatTheLexiconAlsoSays) {
  std::vector<LabelledMessage> set;
  for (const char* w : {"zorp", "the zorp", "zorp it", "a zorp day"}) set.push_back(Message(w, 0, 0.8));
  for (const char* w : {"gleb", "the gleb", "gleb it", "a gleb day"}) set.push_back(Message(w, 1, -0.8));
  for (const char* w : {"quux", "the quux", "quux it", "a quux day"}) set.push_back(Message(w, 2, 0));
  LearnedSentiment model;
  model.Train(set);
  EXPECT_EQ(model.Predict("so zorp", {}), 0);
  EXPECT_EQ(model.Predict("so gleb", {}), 1);
  EXPECT_EQ(model.Predict("so quux", {}), 2);
}

TEST(LearnedSentiment, TrainingIsDeterministic) {
  LearnedSentiment a, b;
  a.Train(Separable());
  b.Train(Separable());
  EXPECT_EQ(a.weights(), b.weights());
  EXPECT_EQ(a.weights().size(), (size_t{1} << LearnedSettings{}.bucket_bits) * 3);
  LearnedSettings other;
  other.seed = 20;
  LearnedSentiment c;
  c.Train(Separable(), other);
  EXPECT_NE(c.weights(), a.weights());  // the seed orders the examples: it is really used
}

TEST(LearnedSentiment, CrossValidationScoresEachFoldWithoutItself) {
  std::vector<LabelledMessage> set = Separable();
  for (LabelledMessage& m : set) m.lang = kEs;
  const CrossValidation cv = CrossValidate(set, {}, 5);
  EXPECT_EQ(cv.messages[kEs], set.size());
  EXPECT_EQ(cv.messages[kEn], 0u);
  EXPECT_GT(cv.learned[kEs], 0.9);  // the deciding word is in every fold's training set
  EXPECT_LT(cv.lexicon[kEs], 0.5);  // a score of 0 says neutral for all
}

}  // namespace
}  // namespace chatpipe::analysis
