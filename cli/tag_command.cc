#include "cli/tag_command.h"

#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>
#include <string>

namespace chatpipe {

void TagLines(const Tagger& tagger, std::istream& in, std::ostream& out, const TagOptions& options) {
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out << TagsToJson(tagger.Analyze(line, options)) << '\n';
  }
  out.flush();
}

void AddTagCommand(CLI::App& app) {
  auto data_dir = std::make_shared<std::string>(DefaultTagDataDir());
  CLI::App* cmd = app.add_subcommand(
      "tag",
      "Tag chat messages: reads one message per line on stdin and writes one JSON object per line on stdout, "
      "{\"lang\":..,\"sentiment\":{\"label\":..,\"score\":..},\"profanity\":{\"flagged\":..,\"level\":..,"
      "\"terms\":[..],\"levels\":[..],\"masked\":..}} (docs/events.md, \"Tags\"). The learned sentiment label and profanity check are "
      "trained on the first load of a set of word lists and then read from $CHATPIPE_TAG_CACHE (default "
      "${CHATPIPE_CACHE:-~/.cache/chatpipe}/learned; off: train every time)");
  cmd->add_option("--data", *data_dir, "Directory of the tagger's word lists (default " + *data_dir + ")")
      ->envname("CHATPIPE_TAG_DATA")
      ->check(CLI::ExistingDirectory);
  auto version = std::make_shared<bool>(false);
  cmd->add_flag("--version", *version,
                "Print the tagger's version (12 hex digits of the SHA-256 of its word lists and code version, as "
                "stored with every tag it makes) and exit");
  auto lexicon_sentiment = std::make_shared<bool>(false);
  cmd->add_flag("--lexicon-sentiment", *lexicon_sentiment,
                "Label sentiment by the lexicon's score alone, not by the learned model trained on the development "
                "sets (to compare the two)");
  auto lists_profanity = std::make_shared<bool>(false);
  cmd->add_flag("--lists-profanity", *lists_profanity,
                "Flag profanity by the word lists alone, not also by the learned model where the lists find none "
                "(to compare the two)");
  cmd->callback([data_dir, version, lexicon_sentiment, lists_profanity] {
    auto tagger = Tagger::Load(*data_dir);
    if (!tagger.ok()) {
      spdlog::error("tag: {}", tagger.status().ToString());
      throw CLI::RuntimeError(1);
    }
    if (*version) {
      std::cout << (*tagger)->version() << '\n';
      return;
    }
    std::ios::sync_with_stdio(false);
    TagOptions options;
    options.learned_sentiment = !*lexicon_sentiment;
    options.learned_profanity = !*lists_profanity;
    TagLines(**tagger, std::cin, std::cout, options);
  });
}

}  // namespace chatpipe
