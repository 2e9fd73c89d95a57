#include "analysis/tagger.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "analysis/chars.h"
#include "analysis/language.h"
#include "analysis/learned_cache.h"
#include "analysis/learned_model.h"
#include "analysis/lexicon.h"
#include "analysis/lexicon_file.h"
#include "analysis/mask.h"
#include "analysis/profanity.h"
#include "analysis/sentiment.h"
#include "analysis/steps.h"
#include "analysis/tokens.h"
#include "common/utf8.h"

namespace chatpipe {

struct Tagger::Data {
  analysis::Lexicon lexicon;
  analysis::Profanity profanity;
  analysis::LearnedModel learned;  // the sentiment label, and profanity the lists miss
  std::string data_dir;
  std::string version;

  // The tags, and the lexicon's evidence for the learned model (which adds its say once trained).
  Tags Analyze(std::string_view text, const TagOptions& options, analysis::Evidence* evidence) const;
  // Fills in the lexicon's evidence about each development message: what the learned model reads beside
  // the text.
  void AddEvidence(std::vector<analysis::LabelledMessage>* dev) const;
};

Tagger::Tagger(std::unique_ptr<const Data> data) : data_(std::move(data)) {}
Tagger::~Tagger() = default;

Result<std::unique_ptr<Tagger>> Tagger::Load(const std::string& data_dir) {
  auto data = std::make_unique<Data>();
  analysis::LexiconReader reader(data_dir);
  // Profanity before the allow-list, and Link last: it needs every word of the lexicon.
  if (Status st = data->lexicon.LoadWords(reader); !st.ok()) return st;
  if (Status st = data->profanity.Load(reader); !st.ok()) return st;
  if (Status st = data->lexicon.LoadAllowList(reader); !st.ok()) return st;
  data->profanity.Link(&data->lexicon);
  if (Status st = data->profanity.CheckEmojiCues(data->lexicon); !st.ok()) return st;
  std::vector<analysis::LabelledMessage> dev;
  if (Status st = analysis::ReadDevelopmentSets(reader, &dev); !st.ok()) return st;
  // Every file is read by now: the digest is the cache's key as the version is the tags'.
  const std::string cache = analysis::LearnedCacheDir();
  const analysis::LearnedSettings settings;
  const std::string key = analysis::LearnedCacheKey(reader.Version(kTaggerCodeVersion, 32), settings);
  if (!analysis::ReadLearnedCache(cache, key, &data->learned)) {
    data->AddEvidence(&dev);
    data->learned.Train(dev, settings);
    analysis::WriteLearnedCache(cache, key, data->learned);
  }
  data->data_dir = data_dir;
  data->version = reader.Version(kTaggerCodeVersion);
  return std::unique_ptr<Tagger>(new Tagger(std::move(data)));
}

void Tagger::Data::AddEvidence(std::vector<analysis::LabelledMessage>* dev) const {
  TagOptions lexicon_only;
  lexicon_only.learned_sentiment = lexicon_only.learned_profanity = false;
  for (analysis::LabelledMessage& m : *dev) Analyze(m.text, lexicon_only, &m.evidence);
}

analysis::CrossValidation Tagger::CrossValidateLearned(const analysis::LearnedSettings& settings, int folds) const {
  analysis::LexiconReader reader(data_->data_dir);
  std::vector<analysis::LabelledMessage> dev;
  if (!analysis::ReadDevelopmentSets(reader, &dev).ok()) return {};
  data_->AddEvidence(&dev);
  return analysis::CrossValidate(dev, settings, folds);
}

const std::string& Tagger::version() const { return data_->version; }

namespace {

// The caller's names (the author's own) are never profanity: whole tokens, folded alike ("DICK" is
// "Dick"). A bad word in pieces is no name.
void SpareCallerNames(const std::vector<std::string_view>& names, analysis::Scratch* s) {
  if (names.empty()) return;
  std::vector<std::string> folded;
  for (std::string_view name : names) folded.push_back(analysis::FoldWord(name));
  std::vector<analysis::Token>& tokens = s->tokens;
  for (size_t i = 0; i < tokens.size(); ++i) {
    CHATPIPE_STEPS(folded.size());
    analysis::Token& t = tokens[i];
    const bool in_pieces = i + 1 < tokens.size() && tokens[i + 1].absorbed;
    if (t.bad < 0 || in_pieces) continue;
    for (const std::string& name : folded)
      if (s->Folded(t) == name) t.bad = -1;
  }
}

// A word of one character and then only '*' ("m*****", "a**"): what MaskText makes of a bad word.
bool HasMaskedWord(std::string_view text) {
  CHATPIPE_STEPS(text.size());
  for (size_t i = 1; i < text.size(); ++i) {
    if (text[i] != '*' || text[i - 1] == '*') continue;
    size_t start = i - 1;  // the character before the stars, back to its first byte
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    size_t end = i;
    while (end < text.size() && text[end] == '*') ++end;
    const bool alone = (start == 0 || !analysis::IsWordByte(text[start - 1])) && (end == text.size() || !analysis::IsWordByte(text[end]));
    if (analysis::IsWordByte(text[start]) && alone) return true;
    i = end;
  }
  return false;
}

// Whether the learned model may flag a message the lists find clean. Not where the lists matched a bad
// word (`matched`: the message being clean, they spared it, as an allowed word, a name or an innocent
// sense: the lists decided); not on the tagger's own masked output, which is never flagged again; not
// on fewer than three words: a word or two is the lists' job, and where the character n-grams mislead
// the model most ("shitake").
bool LearnedMayFlag(std::string_view text, const std::vector<analysis::Token>& tokens, bool matched) {
  if (matched) return false;
  int words = 0;
  for (const analysis::Token& t : tokens) words += t.letters > 0 && !t.absorbed;
  CHATPIPE_STEPS(tokens.size());
  return words >= 3 && !HasMaskedWord(text);
}

}  // namespace

Tags Tagger::Analyze(std::string_view text, const TagOptions& options) const {
  analysis::Evidence evidence;
  return data_->Analyze(text, options, &evidence);
}

Tags Tagger::Data::Analyze(std::string_view text, const TagOptions& options, analysis::Evidence* evidence) const {
  using namespace analysis;
  static thread_local Scratch scratch;
  Scratch* s = &scratch;
  const Lexicon& lexicon = this->lexicon;
  const Profanity& profanity = this->profanity;
  s->tokens.clear();
  ScanStats st;
  Scan(lexicon, text, s, &st);
  profanity.FindBadWords(lexicon, text, s);
  const bool matched = std::any_of(s->tokens.begin(), s->tokens.end(), [](const Token& t) { return t.bad >= 0; });
  CHATPIPE_STEPS(s->tokens.size());
  bool ambiguous;
  const int lang = DetectLanguage(lexicon, s->tokens, st.hints, &ambiguous);
  profanity.Allow(lexicon, lang, text, st, s);
  SpareCallerNames(options.names, s);

  Tags tags;
  tags.lang = kLangCodes[lang];
  double score = std::round(Sentiment(lexicon, s, st, lang, ambiguous) * 1000) / 1000;
  if (score == 0) score = 0;  // no "-0"
  tags.sentiment_score = score;
  tags.sentiment_label = kSentimentLabels[LexiconClass(score)];
  std::vector<bool> seen;  // bases already in terms: a text of many bad words costs one look each
  bool masks = false;  // some bad word is of a level the caller masks
  for (Token& t : s->tokens) {
    CHATPIPE_STEPS(1);
    evidence->emoji_positive |= t.is_emoji && t.emoji > 0;
    evidence->emoji_negative |= t.is_emoji && t.emoji < 0;
    if (t.bad < 0) continue;
    const Severity level = profanity.Level(t.bad);
    evidence->hostile |= profanity.Hostile(t.bad);
    t.mask = level == Severity::kStrong ? options.mask_strong : options.mask_mild;
    masks |= t.mask;
    tags.level = std::max(tags.level, level);
    if (seen.empty()) seen.resize(profanity.bases());
    if (seen[t.bad]) continue;
    seen[t.bad] = true;
    tags.terms.emplace_back(profanity.Base(t.bad));
    tags.term_levels.push_back(level);
  }
  tags.profane = tags.level != Severity::kNone;
  evidence->score = score;
  evidence->lang = lang;
  evidence->profane = tags.profane;
  if ((options.learned_sentiment || options.learned_profanity) && learned.trained()) {
    const bool ask_head = options.learned_profanity && !tags.profane && LearnedMayFlag(text, s->tokens, matched);
    const Prediction p = learned.Predict(text, *evidence, ask_head);
    if (options.learned_sentiment) tags.sentiment_label = kSentimentLabels[p.sentiment];
    // What the lists missed and the profanity head is sure of: no word to name, so the term says who
    // found it, and a room that masks its level has every word masked (there is no one word to hide).
    if (ask_head && LearnedProfane(p)) {
      tags.profane = true;
      tags.level = p.strong ? Severity::kStrong : Severity::kMild;
      tags.terms.emplace_back(kLearnedTerm);
      tags.term_levels.push_back(tags.level);
      masks = tags.level == Severity::kStrong ? options.mask_strong : options.mask_mild;
      for (Token& t : s->tokens) t.mask = masks && t.letters > 0 && !t.absorbed;
    }
  }
  if (evidence->hostile) tags.sentiment_label = "negative";  // a threat is negative (labelling.md)
  CHATPIPE_STEPS(text.size());  // the copy
  tags.any_masked = masks;
  tags.masked = masks ? MaskText(text, s->tokens) : std::string(text);
  return tags;
}

std::string TagsToJson(const Tags& tags) {
  static thread_local rapidjson::StringBuffer buf;  // keeps its capacity from message to message
  buf.Clear();
  CHATPIPE_STEPS(2 * tags.masked.size());  // checked, then written
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
  w.Key("level");
  w.String(SeverityName(tags.level));
  w.Key("terms");
  w.StartArray();
  for (const std::string& term : tags.terms) w.String(term.data(), static_cast<rapidjson::SizeType>(term.size()));
  w.EndArray();
  w.Key("levels");
  w.StartArray();
  for (Severity level : tags.term_levels) w.String(SeverityName(level));
  w.EndArray();
  // Only when it differs from the text: every message frame carries its tags, and repeating the
  // whole text in each would double what the fan-out writes.
  if (tags.any_masked) {
    w.Key("masked");
    if (IsValidUtf8(tags.masked)) {
      w.String(tags.masked.data(), static_cast<rapidjson::SizeType>(tags.masked.size()));
    } else {
      const std::string valid = ReplaceInvalidUtf8(tags.masked);
      w.String(valid.data(), static_cast<rapidjson::SizeType>(valid.size()));
    }
  }
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::optional<std::string> FlaggedMaskedText(std::string_view tags_json) {
  rapidjson::Document tags;
  tags.Parse(tags_json.data(), tags_json.size());
  if (tags.HasParseError() || !tags.IsObject()) return std::nullopt;
  auto p = tags.FindMember("profanity");
  if (p == tags.MemberEnd() || !p->value.IsObject()) return std::nullopt;
  auto flagged = p->value.FindMember("flagged"), masked = p->value.FindMember("masked");
  if (flagged == p->value.MemberEnd() || !flagged->value.IsTrue()) return std::nullopt;
  if (masked == p->value.MemberEnd() || !masked->value.IsString()) return std::nullopt;
  return std::string(masked->value.GetString(), masked->value.GetStringLength());
}

std::string DefaultTagDataDir() {
  if (const char* env = std::getenv("CHATPIPE_TAG_DATA"); env && *env) return env;
  return CHATPIPE_TAG_DATA_DIR;
}

}  // namespace chatpipe
