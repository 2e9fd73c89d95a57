// Fuzzes the tagger (analysis/tagger.h) on any bytes, as the tag worker and a mask room's ingress run
// it on every message. Beyond "no crash and no sanitizer report": the tags are within their ranges,
// the masked text is the text when nothing is profane and never longer (one '*' per character), and
// the JSON the worker stores is well-formed UTF-8 that parses back to the same tags.
#include <rapidjson/document.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "analysis/tagger.h"
#include "common/utf8.h"

#define FUZZ_CHECK(cond) \
  if (!(cond)) __builtin_trap()

namespace {

const chatpipe::Tagger& TheTagger() {
  static const std::unique_ptr<chatpipe::Tagger> tagger = [] {
    auto loaded = chatpipe::Tagger::Load(chatpipe::DefaultTagDataDir());
    if (!loaded.ok()) std::abort();
    return std::move(*loaded);
  }();
  return *tagger;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chatpipe;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const Tags tags = TheTagger().Analyze(text);
  FUZZ_CHECK(tags.lang == "es" || tags.lang == "pt" || tags.lang == "en");
  FUZZ_CHECK(tags.sentiment_label == "positive" || tags.sentiment_label == "negative" ||
             tags.sentiment_label == "neutral");
  FUZZ_CHECK(std::isfinite(tags.sentiment_score) && tags.sentiment_score >= -1 && tags.sentiment_score <= 1);
  FUZZ_CHECK(tags.profane == !tags.terms.empty());
  FUZZ_CHECK(tags.term_levels.size() == tags.terms.size());
  Severity highest = Severity::kNone;
  for (Severity level : tags.term_levels) {
    FUZZ_CHECK(level != Severity::kNone);
    highest = std::max(highest, level);
  }
  FUZZ_CHECK(tags.level == highest);
  if (!tags.any_masked) FUZZ_CHECK(tags.masked == text);
  FUZZ_CHECK(tags.masked.size() <= text.size());

  const std::string json = TagsToJson(tags);
  FUZZ_CHECK(IsValidUtf8(json));
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  FUZZ_CHECK(!doc.HasParseError() && doc.IsObject());
  FUZZ_CHECK(doc["lang"].GetString() == tags.lang);
  FUZZ_CHECK(doc["profanity"]["flagged"].GetBool() == tags.profane);
  FUZZ_CHECK(doc["profanity"]["terms"].Size() == tags.terms.size());
  FUZZ_CHECK(doc["profanity"]["levels"].Size() == tags.terms.size());
  FUZZ_CHECK(doc["profanity"].HasMember("masked") == tags.any_masked);
  return 0;
}
