// tagger_bench: messages per second per core of Tagger::Analyze (and of Analyze plus TagsToJson, as
// `chatpipe tag` and the tag worker run it) on one thread, over the texts of the labelled sets.
// Also the extra latency a `mask` room adds to a message: ingress runs Analyze + TagsToJson inline
// before producing (ingress/message_intake.cc), so that work, timed per message up to 4,000
// characters, is the whole difference from a `tag` room; reported as p50/p99/max.
// Then the worst texts a client can send (analysis/worst_texts.h) at the 4,000-character limit: time per
// message of that inline work, and of ParseMentions, which ingress runs on every message to cap mentions.
// Prints figures, asserts nothing. Targets (issue 4): 500,000 messages/s per core; p99 under 5 ms.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "analysis/mention_parser.h"
#include "analysis/tagger.h"
#include "analysis/worst_texts.h"

#include "bench/machine.h"

namespace {

using chatpipe::bench::CpuModel;

std::vector<std::string> ReadTexts(const std::string& path) {
  std::vector<std::string> texts;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t tab = 0;
    for (int k = 0; k < 3 && tab != std::string::npos; ++k) tab = line.find('\t', tab ? tab + 1 : 0);
    if (tab != std::string::npos) texts.push_back(line.substr(tab + 1));
  }
  return texts;
}

double MeanBytes(const std::vector<std::string>& texts) {
  size_t bytes = 0;
  for (const std::string& t : texts) bytes += t.size();
  return static_cast<double>(bytes) / texts.size();
}


// Runs one pass of `work` over the corpus repeatedly for about `seconds`; returns messages done and
// seconds taken.
template <typename Work>
std::pair<size_t, double> Run(const std::vector<std::string>& corpus, double seconds, Work work) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  size_t done = 0;
  double elapsed = 0;
  while (elapsed < seconds) {
    for (const std::string& text : corpus) work(text);
    done += corpus.size();
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return {done, elapsed};
}

void Report(const char* what, size_t messages, double seconds, double bytes_per_message) {
  const double rate = messages / seconds;
  std::printf("%-22s %10.0f messages/s  %7.1f ns/message  %6.1f MB/s\n", what, rate, 1e9 / rate,
              rate * bytes_per_message / 1e6);
}

// Per-message time (microseconds, sorted) of the inline work of a mask room over `texts`, `rounds` times.
std::vector<double> MaskTimes(const chatpipe::Tagger& t, const std::vector<std::string>& texts, int rounds,
                              size_t* sink) {
  using Clock = std::chrono::steady_clock;
  std::vector<double> us;
  for (int round = 0; round < rounds; ++round)
    for (const std::string& text : texts) {
      auto start = Clock::now();
      *sink += TagsToJson(t.Analyze(text)).size();
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }
  std::sort(us.begin(), us.end());
  return us;
}

void ReportTimes(const char* what, const std::vector<double>& us) {
  std::printf("  %-34s p50 %8.2f us  p99 %8.2f us  max %8.2f us  (%zu samples)\n", what, us[us.size() / 2],
              us[us.size() * 99 / 100], us.back(), us.size());
}

// The corpus as sent, and texts at the 4,000-character limit (the worst a client can send).
void ReportMaskLatency(const chatpipe::Tagger& t, const std::vector<std::string>& corpus, size_t* sink) {
  std::string joined;
  for (size_t i = 0; joined.size() < 4000; ++i) joined += corpus[i % corpus.size()] + " ";
  std::vector<std::string> longest;
  for (size_t shift = 0; shift < 50; ++shift) longest.push_back(joined.substr(shift * 7 % 50, 4000 - 50));
  std::printf("mask room, extra latency per message (target p99 < 5 ms):\n");
  ReportTimes("chat messages (the corpus)", MaskTimes(t, corpus, 50, sink));
  ReportTimes("messages of ~4,000 characters", MaskTimes(t, longest, 20, sink));
}

// Mean microseconds per call of work(text), over about `seconds`.
template <typename Work>
double MicrosPerCall(const std::string& text, double seconds, Work work) {
  const std::vector<std::string> one{text};
  auto [n, s] = Run(one, seconds, work);
  return s * 1e6 / n;
}

// The worst texts at ingress's limit: what a hostile client makes one message cost on the loop.
void ReportWorstTexts(const chatpipe::Tagger& t, double seconds, size_t* sink) {
  std::printf("worst texts at 4,000 characters (mask/block room: Analyze + TagsToJson; every room: ParseMentions):\n");
  double worst = 0;
  std::string worst_name;
  for (const auto& w : chatpipe::analysis::WorstTexts(4000)) {
    const double tag_us =
        MicrosPerCall(w.text, seconds, [&](const std::string& text) { *sink += TagsToJson(t.Analyze(text)).size(); });
    const double mention_us = MicrosPerCall(w.text, seconds / 4, [&](const std::string& text) {
      *sink += chatpipe::ParseMentions(text).users.size();
    });
    std::printf("  %-24s %6zu bytes  tag %9.1f us %8.1f MB/s   mentions %7.1f us\n", w.name.c_str(), w.text.size(),
                tag_us, w.text.size() / tag_us, mention_us);
    if (tag_us + mention_us > worst) worst = tag_us + mention_us, worst_name = w.name;
  }
  std::printf("  worst per message on the loop: %.1f us (%s)\n", worst, worst_name.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Tagger throughput on one thread");
  std::string data = chatpipe::DefaultTagDataDir();
  double seconds = 3;
  app.add_option("--data", data, "Directory of the tagger's word lists")->envname("CHATPIPE_TAG_DATA");
  app.add_option("--seconds", seconds, "How long each measurement runs");
  CLI11_PARSE(app, argc, argv);

  auto tagger = chatpipe::Tagger::Load(data);
  if (!tagger.ok()) {
    std::fprintf(stderr, "%s\n", tagger.status().ToString().c_str());
    return 1;
  }
  // The evaluation sets' chat messages, every language, development and holdout.
  std::vector<std::string> corpus;
  for (const char* set : {"dev", "holdout"})
    for (const char* lang : {"en", "es", "pt"})
      for (std::string& t : ReadTexts(data + "/eval/" + set + "_" + lang + ".tsv")) corpus.push_back(std::move(t));
  // The labelled messages are short (about 54 bytes); two of them joined make a longer one (about 110).
  std::vector<std::string> pairs;
  for (size_t i = 0; i + 1 < corpus.size(); i += 2) pairs.push_back(corpus[i] + " " + corpus[i + 1]);

  std::printf("cpu: %s\nbuild: %s\n", CpuModel().c_str(), CHATPIPE_BUILD_TYPE);
  const chatpipe::Tagger& t = **tagger;
  size_t sink = 0;  // keeps the work from being optimised away
  Run(corpus, 0.3, [&](const std::string& text) { sink += t.Analyze(text).masked.size(); });  // warm-up
  for (const auto* c : {&corpus, &pairs}) {
    const double mean = MeanBytes(*c);
    std::printf("corpus: %zu messages of %.1f bytes on average\n", c->size(), mean);
    auto [n1, s1] = Run(*c, seconds, [&](const std::string& text) { sink += t.Analyze(text).masked.size(); });
    Report("  Analyze", n1, s1, mean);
    auto [n2, s2] = Run(*c, seconds, [&](const std::string& text) { sink += TagsToJson(t.Analyze(text)).size(); });
    Report("  Analyze + TagsToJson", n2, s2, mean);
  }
  ReportMaskLatency(t, corpus, &sink);
  ReportWorstTexts(t, seconds / 10, &sink);
  std::printf("(checksum %zu)\n", sink);
  return 0;
}
