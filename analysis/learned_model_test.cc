#include "analysis/learned_model.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "analysis/language.h"

namespace chatpipe::analysis {
namespace {

LabelledMessage Message(std::string text, int label, double score = 0) {
  LabelledMessage m;
  m.text = std::move(text);
  m.sentiment = label;
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

TEST(LearnedModel, LearnsASeparableSet) {
  LearnedModel model;
  EXPECT_FALSE(model.trained());
  LearnedSettings settings;
  settings.bucket_bits = 12;
  model.Train(Separable(), settings);
  ASSERT_TRUE(model.trained());
  for (const LabelledMessage& m : Separable()) EXPECT_EQ(model.Predict(m.text, m.evidence).sentiment, m.sentiment) << m.text;
  // Unseen texts with the deciding word, folded: case and accents do not matter.
  EXPECT_EQ(model.Predict("ZÓRP!", {}).sentiment, 0);
  EXPECT_EQ(model.Predict("so gleb", {}).sentiment, 1);
  EXPECT_EQ(model.Predict("Quux?", {}).sentiment, 2);
}

TEST(LearnedModel, LearnsFromTheLexiconsEvidence) {
  // The same text in every class: only the lexicon's score tells them apart.
  std::vector<LabelledMessage> set;
  for (int k = 0; k < 4; ++k) {
    set.push_back(Message("same words", 0, 0.8));
    set.push_back(Message("same words", 1, -0.8));
    set.push_back(Message("same words", 2, 0));
  }
  LearnedModel model;
  model.Train(set);
  Evidence e;
  e.score = 0.7;
  EXPECT_EQ(model.Predict("same words", e).sentiment, 0);
  e.score = -0.7;
  EXPECT_EQ(model.Predict("same words", e).sentiment, 1);
  e.score = 0;
  EXPECT_EQ(model.Predict("same words", e).sentiment, 2);
}

// Words the lexicon also scores: with its evidence dropped from part of the training, the text's own
// weights learn them too, so a new message whose words the lexicon lacks is still read.
TEST(LearnedModel, TheTextLearnsWhatTheLexiconAlsoSays) {
  std::vector<LabelledMessage> set;
  for (const char* w : {"zorp", "the zorp", "zorp it", "a zorp day"}) set.push_back(Message(w, 0, 0.8));
  for (const char* w : {"gleb", "the gleb", "gleb it", "a gleb day"}) set.push_back(Message(w, 1, -0.8));
  for (const char* w : {"quux", "the quux", "quux it", "a quux day"}) set.push_back(Message(w, 2, 0));
  LearnedModel model;
  model.Train(set);
  EXPECT_EQ(model.Predict("so zorp", {}).sentiment, 0);
  EXPECT_EQ(model.Predict("so gleb", {}).sentiment, 1);
  EXPECT_EQ(model.Predict("so quux", {}).sentiment, 2);
}

TEST(LearnedModel, TrainingIsDeterministic) {
  LearnedModel a, b;
  a.Train(Separable());
  b.Train(Separable());
  EXPECT_EQ(a.weights(0), b.weights(0));
  EXPECT_EQ(a.weights(1), b.weights(1));
  EXPECT_EQ(a.weights(0).size(), (size_t{1} << LearnedSettings{}.bucket_bits) * 2);  // two classes less the first
  EXPECT_EQ(a.weights(1).size(), (size_t{1} << LearnedSettings{}.profanity_bits) * 2);
  LearnedSettings other;
  other.seed = 20;
  LearnedModel c;
  c.Train(Separable(), other);
  EXPECT_NE(c.weights(0), a.weights(0));  // the seed orders the examples: it is really used
  EXPECT_NE(c.weights(1), a.weights(1));
}

// The profanity head: made-up words are strong, mild or clean, and the word lists' verdict
// (evidence.profane) is wrong on every example: the head reads the text alone, so it learns the words.
std::vector<LabelledMessage> Rude() {
  std::vector<LabelledMessage> out;
  for (const char* frame : {"%s", "the %s", "%s it", "a %s day", "so %s"}) {
    for (int level = 0; level < 3; ++level) {
      char text[64];
      std::snprintf(text, sizeof text, frame, level == 2 ? "zorp" : level == 1 ? "gleb" : "quux");
      LabelledMessage m = Message(text, 1);
      m.profanity = level;
      m.evidence.profane = level == 0;
      out.push_back(std::move(m));
    }
  }
  return out;
}

TEST(LearnedModel, TheProfanityHeadReadsTheTextAlone) {
  LearnedModel model;
  LearnedSettings settings;
  settings.bucket_bits = 12;
  model.Train(Rude(), settings);
  Evidence lists_say_clean, lists_say_profane;
  lists_say_profane.profane = true;
  for (const Evidence& e : {lists_say_clean, lists_say_profane}) {
    const Prediction strong = model.Predict("what a ZORP", e), mild = model.Predict("what a gleb", e),
                     clean = model.Predict("what a quux", e);
    EXPECT_GT(strong.profane, 0.7);
    EXPECT_TRUE(strong.strong);
    EXPECT_GT(mild.profane, 0.7);
    EXPECT_FALSE(mild.strong);
    EXPECT_LT(clean.profane, 0.3);
  }
  EXPECT_EQ(model.Predict("what a quux", lists_say_clean).profane, model.Predict("what a quux", lists_say_profane).profane);
}

// Asked for the sentiment head alone, Predict gives the same label and leaves the profanity head's
// answer empty, whatever the text.
TEST(LearnedModel, WithoutTheProfanityHeadTheSentimentIsTheSame) {
  LearnedModel model;
  LearnedSettings settings;
  settings.bucket_bits = 12;
  model.Train(Rude(), settings);
  for (const char* text : {"what a ZORP", "what a gleb", "what a quux", "you gleb, you", "so zorp?"}) {
    const Prediction both = model.Predict(text, {}), sentiment = model.Predict(text, {}, false);
    EXPECT_EQ(sentiment.sentiment, both.sentiment) << text;
    EXPECT_EQ(sentiment.profane, 0) << text;
    EXPECT_FALSE(sentiment.strong) << text;
  }
  EXPECT_GT(model.Predict("what a ZORP", {}).profane, 0.7);
}

// Whether a word is rude here depends on whether the message speaks to someone: "lantern" is strong
// only in a message to "you" (or "vc"), "harbour" only in one to nobody. No sum of the words' own
// weights can say that (it is an exclusive or); the head reads the words of an addressed message a
// second time, under other weights. The filler words apart the words from the pronoun, so that no pair
// of neighbouring words tells either.
TEST(LearnedModel, TheProfanityHeadReadsTheWordsOfAMessageToSomeoneApart) {
  const char* fillers[] = {"blip", "mork", "tazz", "vune", "quib", "dorl", "zeff", "gomp"};
  std::vector<LabelledMessage> set;
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 6; ++j)
      for (const char* word : {"lantern", "harbour"})
        for (const char* start : {"you", "vc", "the", "a"}) {
          const bool addressed = std::string(start) == "you" || std::string(start) == "vc";
          LabelledMessage m = Message(std::string(start) + " " + fillers[i] + " " + word + " " + fillers[j], 2);
          m.profanity = addressed == (std::string(word) == "lantern") ? 2 : 0;
          set.push_back(std::move(m));
        }
  LearnedModel model;
  LearnedSettings settings;
  settings.bucket_bits = 14;
  model.Train(set, settings);
  // New fillers: the head has seen neither them nor these messages.
  EXPECT_GT(model.Predict("you zeff lantern gomp", {}).profane, 0.7);
  EXPECT_LT(model.Predict("the zeff lantern gomp", {}).profane, 0.3);
  EXPECT_LT(model.Predict("you zeff harbour gomp", {}).profane, 0.3);
  EXPECT_GT(model.Predict("the zeff harbour gomp", {}).profane, 0.7);
}

TEST(LearnedModel, ANeutralMessageNeedsASurerProfanityHead) {
  auto said = [](int sentiment, float profane) { return LearnedProfane({sentiment, profane, true}); };
  EXPECT_FALSE(said(1, 0.6f));
  EXPECT_TRUE(said(1, 0.8f));
  EXPECT_TRUE(said(0, 0.8f));  // a rude word can be glad ("fds, que golo")
  EXPECT_FALSE(said(kNeutral, 0.8f));
  EXPECT_TRUE(said(kNeutral, 0.95f));
}

TEST(LearnedModel, CrossValidationScoresEachFoldWithoutItself) {
  std::vector<LabelledMessage> set = Separable();
  for (LabelledMessage& m : set) m.lang = kEs;
  const CrossValidation cv = CrossValidate(set, {}, 5);
  EXPECT_EQ(cv.messages[kEs], set.size());
  EXPECT_EQ(cv.messages[kEn], 0u);
  EXPECT_GT(cv.learned[kEs], 0.9);  // the deciding word is in every fold's training set
  EXPECT_LT(cv.lexicon[kEs], 0.5);  // a score of 0 says neutral for all
}

TEST(LearnedModel, CrossValidationCountsWhatTheProfanityHeadAdds) {
  std::vector<LabelledMessage> set = Rude();
  for (LabelledMessage& m : set) {
    m.lang = kPt;
    m.evidence.profane = m.profanity == 2;  // the lists know the strong word, not the mild one
  }
  const CrossValidation cv = CrossValidate(set, {}, 5);
  EXPECT_EQ(cv.messages[kPt], set.size());
  EXPECT_NEAR(cv.lists_profanity[kPt], 2.0 * 5 / (2 * 5 + 5), 1e-9);  // 5 found, 5 missed
  EXPECT_EQ(cv.head_right[kPt], 5);  // the head finds each mild one, in every fold
  EXPECT_EQ(cv.head_wrong[kPt], 0);
  EXPECT_DOUBLE_EQ(cv.with_head_profanity[kPt], 1.0);
}

}  // namespace
}  // namespace chatpipe::analysis
