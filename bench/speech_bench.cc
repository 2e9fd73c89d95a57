// speech_bench: what reading a message aloud costs (media/speech.h, as the speech worker runs it):
// synthesis with espeak-ng plus Ogg Opus encoding, per message, for short, medium and long texts in
// es, pt and en, on one thread. Prints ms per message, the audio's length, the real-time factor
// (CPU time / audio time: below 1 is faster than speaking) and the conditions. Asserts nothing.
// Default: one run of each case; --runs N for medians of N. Both wall time and the thread's CPU time
// are shown: on a busy machine (the load average is printed) the wall time grows, the CPU time much less.
#include <CLI/CLI.hpp>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "media/speech.h"

#include "bench/machine.h"

namespace {

using chatpipe::bench::CpuModel;
using chatpipe::bench::LoadAverage;



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

double ThreadCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"speech_bench: synthesis + Ogg Opus encoding per message"};
  int runs = 1;
  app.add_option("--runs", runs, "syntheses of each case (the median is shown)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::printf("speech_bench: %s, libopusenc, 24 kbit/s mono; %s, %u cores, load average %s; build %s; "
              "one thread, %d run(s) per case\n",
              chatpipe::SpeechEngineVersion().c_str(), CpuModel().c_str(), std::thread::hardware_concurrency(),
              LoadAverage().c_str(), CHATPIPE_BUILD_TYPE, runs);
  std::printf("%-4s %-7s %7s %9s %9s %9s %8s %9s\n", "lang", "text", "bytes", "audio_s", "wall_ms", "cpu_ms",
              "RTF_cpu", "ogg_KB");
  for (const Case& c : Cases()) {
    std::vector<double> ms, cpu;
    chatpipe::SpeechAudio audio;
    for (int i = 0; i < runs; ++i) {
      const auto start = std::chrono::steady_clock::now();
      const double cpu_start = ThreadCpuMs();
      auto r = chatpipe::Synthesize(c.text, c.lang, chatpipe::SpeechLimits{});
      cpu.push_back(ThreadCpuMs() - cpu_start);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      if (!r.ok()) {
        std::fprintf(stderr, "speech_bench: %s\n", r.status().ToString().c_str());
        return 1;
      }
      audio = std::move(*r);
    }
    std::sort(ms.begin(), ms.end());
    std::sort(cpu.begin(), cpu.end());
    const double wall_ms = ms[ms.size() / 2], cpu_ms = cpu[cpu.size() / 2];
    std::printf("%-4s %-7s %7zu %9.2f %9.1f %9.1f %8.3f %9.1f\n", c.lang, c.size, c.text.size(),
                audio.duration_ms / 1000.0, wall_ms, cpu_ms, cpu_ms / static_cast<double>(audio.duration_ms),
                audio.ogg.size() / 1024.0);
  }
  return 0;
}
