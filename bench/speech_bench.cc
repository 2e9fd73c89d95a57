// speech_bench: what reading a message aloud costs (media/speech.h, as the speech worker runs it):
// synthesis with espeak-ng plus Ogg Opus encoding, per message, for short, medium and long texts in
// es, pt and en, on one thread. Prints ms per message, the audio's length, the real-time factor
// (processing time / audio time: below 1 is faster than speaking) and the conditions. Asserts nothing.
// Default: 3 runs of each case, a few seconds in all; --runs for steadier figures.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "media/speech.h"

namespace {

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

struct Case {
  const char* lang;
  const char* size;
  std::string text;
};

// The same sentence repeated: short (~40 bytes), medium (~200), long (~1,000).
std::vector<Case> Cases() {
  const std::vector<std::pair<const char*, std::string>> sentences = {
      {"es", "Nos vemos mañana a las diez en la oficina. "},
      {"pt", "A gente se vê amanhã às dez no escritório. "},
      {"en", "See you tomorrow at ten in the office, okay. "},
  };
  std::vector<Case> cases;
  for (const auto& [lang, sentence] : sentences) {
    for (auto [size, times] : {std::pair{"short", 1}, std::pair{"medium", 5}, std::pair{"long", 24}}) {
      std::string text;
      for (int i = 0; i < times; ++i) text += sentence;
      cases.push_back({lang, size, text});
    }
  }
  return cases;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"speech_bench: synthesis + Ogg Opus encoding per message"};
  int runs = 3;
  app.add_option("--runs", runs, "syntheses of each case (the median is shown)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::printf("speech_bench: %s, libopusenc, 24 kbit/s mono; %s, %u cores; build %s; one thread\n",
              chatpipe::SpeechEngineVersion().c_str(), CpuModel().c_str(), std::thread::hardware_concurrency(),
              CHATPIPE_BUILD_TYPE);
  std::printf("%-4s %-7s %7s %9s %10s %9s %7s\n", "lang", "text", "bytes", "audio_s", "ms/msg", "ogg_KB", "RTF");
  for (const Case& c : Cases()) {
    std::vector<double> ms;
    chatpipe::SpeechAudio audio;
    for (int i = 0; i < runs; ++i) {
      const auto start = std::chrono::steady_clock::now();
      auto r = chatpipe::Synthesize(c.text, c.lang, chatpipe::SpeechLimits{});
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      if (!r.ok()) {
        std::fprintf(stderr, "speech_bench: %s\n", r.status().ToString().c_str());
        return 1;
      }
      audio = std::move(*r);
    }
    std::sort(ms.begin(), ms.end());
    const double median = ms[ms.size() / 2];
    std::printf("%-4s %-7s %7zu %9.2f %10.1f %9.1f %7.3f\n", c.lang, c.size, c.text.size(), audio.duration_ms / 1000.0,
                median, audio.ogg.size() / 1024.0, median / static_cast<double>(audio.duration_ms));
  }
  return 0;
}
