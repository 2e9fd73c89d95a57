#include "media/speech.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <thread>

namespace chatpipe {
namespace {

// What the tests read back from an Ogg stream itself: a tiny page reader (RFC 3533), not libopusenc's
// own numbers.
struct OggInfo {
  bool ok = false;
  int64_t last_granule = -1;
  int pre_skip = -1;
};

OggInfo ReadOgg(const std::string& ogg) {
  OggInfo info;
  size_t at = 0;
  while (at < ogg.size()) {
    if (ogg.size() - at < 27 || ogg.compare(at, 4, "OggS") != 0) return info;
    int64_t granule = 0;
    std::memcpy(&granule, ogg.data() + at + 6, 8);  // little-endian, as is this machine
    const size_t segments = static_cast<unsigned char>(ogg[at + 26]);
    if (ogg.size() - at < 27 + segments) return info;
    size_t body = 0;
    for (size_t i = 0; i < segments; ++i) body += static_cast<unsigned char>(ogg[at + 27 + i]);
    const size_t start = at + 27 + segments;
    if (ogg.size() - start < body) return info;
    if (info.pre_skip < 0 && body >= 19 && ogg.compare(start, 8, "OpusHead") == 0)
      info.pre_skip = static_cast<unsigned char>(ogg[start + 10]) | static_cast<unsigned char>(ogg[start + 11]) << 8;
    if (granule != -1) info.last_granule = granule;
    at = start + body;
  }
  info.ok = info.pre_skip >= 0 && info.last_granule >= 0;
  return info;
}

int64_t OggDurationMs(const OggInfo& info) { return (info.last_granule - info.pre_skip) * 1000 / 48000; }

SpeechAudio Speak(std::string_view text, std::string_view lang) {
  auto audio = Synthesize(text, lang, SpeechLimits{});
  EXPECT_TRUE(audio.ok()) << audio.status().ToString();
  return audio.ok() ? *audio : SpeechAudio{};
}

constexpr std::string_view kTenWords = "the quick brown fox jumps over the lazy dog today";

TEST(SpeechTest, MakesOggOpusWhoseOwnDurationMatches) {
  SpeechAudio a = Speak(kTenWords, "en");
  ASSERT_GE(a.ogg.size(), 4u);
  EXPECT_EQ(a.ogg.substr(0, 4), "OggS");
  EXPECT_NE(a.ogg.find("OpusHead"), std::string::npos);
  EXPECT_NE(a.ogg.find("ENCODER=chatpipe"), std::string::npos);
  OggInfo info = ReadOgg(a.ogg);
  ASSERT_TRUE(info.ok);
  EXPECT_NEAR(OggDurationMs(info), a.duration_ms, 50);
  EXPECT_GE(a.duration_ms, 1500);
  EXPECT_LE(a.duration_ms, 8000);
}

TEST(SpeechTest, LongerTextLastsLonger) {
  SpeechAudio shorter = Speak("hola a todos", "es");
  SpeechAudio longer = Speak("hola a todos, hoy vamos a hablar de la reunión del jueves y de lo que falta por hacer", "es");
  EXPECT_GT(longer.duration_ms, shorter.duration_ms + 1000);
  EXPECT_NEAR(OggDurationMs(ReadOgg(longer.ogg)), longer.duration_ms, 50);
}

TEST(SpeechTest, EachLanguageHasItsVoice) {
  EXPECT_STREQ(SpeechVoice("es"), "es");
  EXPECT_STREQ(SpeechVoice("pt"), "pt-br");
  EXPECT_STREQ(SpeechVoice("en"), "en");
  EXPECT_STREQ(SpeechVoice("fr"), "en");
  EXPECT_STREQ(SpeechVoice(""), "en");
  // espeak-ng adds a little noise (a run differs from the next by some ms), so the voices are told
  // apart by how long each takes to read the same numbers in its own language: seconds apart.
  const std::string_view text = "1234567 y 9876543";
  const int64_t es = Speak(text, "es").duration_ms, pt = Speak(text, "pt").duration_ms, en = Speak(text, "en").duration_ms;
  EXPECT_GT(std::abs(es - pt), 200) << es << " " << pt;
  EXPECT_GT(std::abs(es - en), 200) << es << " " << en;
  EXPECT_GT(std::abs(pt - en), 200) << pt << " " << en;
  EXPECT_NEAR(Speak(text, "pt").duration_ms, pt, 50);
  EXPECT_NEAR(Speak(text, "xx").duration_ms, en, 50);
}

TEST(SpeechTest, MarkupIsReadNotObeyed) {
  // As SSML this would be the word "hola" alone; as text espeak also reads (or pauses at) the tags.
  SpeechAudio plain = Speak("hola", "es");
  SpeechAudio markup = Speak("<speak>hola</speak>", "es");
  ASSERT_FALSE(markup.ogg.empty());
  EXPECT_GT(markup.duration_ms, plain.duration_ms);
  // An SSML <break> would add 5 s of silence; an entity would be decoded. Neither happens.
  SpeechAudio brk = Speak("uno <break time=\"5s\"/> dos", "es");
  SpeechAudio no_brk = Speak("uno dos", "es");
  EXPECT_LT(brk.duration_ms, no_brk.duration_ms + 4000);
  EXPECT_GT(Speak("a &amp; b", "en").duration_ms, Speak("a & b", "en").duration_ms);
  // Nor espeak's own notations: phonemes in [[ ]], embedded commands after \x01.
  EXPECT_GT(Speak("[[a]]", "en").duration_ms, 0);
  EXPECT_GT(Speak("hello \x01" "300S world", "en").duration_ms, 0);
}

TEST(SpeechTest, RefusesNothingAndTooMuch) {
  for (std::string_view text : {"", "   ", "\n\t "}) {
    auto r = Synthesize(text, "es", SpeechLimits{});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().name(), "nothing_to_say");
  }
  auto r = Synthesize(std::string(101, 'a'), "en", SpeechLimits{.max_text_bytes = 100});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().name(), "too_large");
  EXPECT_TRUE(Synthesize(std::string(100, 'a'), "en", SpeechLimits{.max_text_bytes = 100}).ok());
}

TEST(SpeechTest, TwoThreadsAtOnce) {
  Result<SpeechAudio> a = Status::Internal("unset"), b = Status::Internal("unset");
  std::thread ta([&] { a = Synthesize("primeira mensagem falada ao mesmo tempo", "pt", SpeechLimits{}); });
  std::thread tb([&] { b = Synthesize("the second message spoken at the same time", "en", SpeechLimits{}); });
  ta.join();
  tb.join();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_NEAR(OggDurationMs(ReadOgg(a->ogg)), a->duration_ms, 50);
  EXPECT_NEAR(OggDurationMs(ReadOgg(b->ogg)), b->duration_ms, 50);
  EXPECT_NEAR(b->duration_ms, Speak("the second message spoken at the same time", "en").duration_ms, 50);
}

TEST(SpeechTest, NamesItsEngine) { EXPECT_EQ(SpeechEngineVersion().rfind("espeak-ng 1.", 0), 0u); }

}  // namespace
}  // namespace chatpipe
