// `chatpipe tag`: the tagger as a filter, the same code the tag worker runs.
//
// Reads one message per line on stdin and writes one JSON object per line on stdout (TagsToJson).
// The word lists come from --data, else $CHATPIPE_TAG_DATA, else the source tree's analysis/data.
// --lexicon-sentiment labels sentiment by the lexicon's score alone, not the learned model (to compare).
#pragma once

#include <CLI/CLI.hpp>

#include <istream>
#include <ostream>

#include "analysis/tagger.h"

namespace chatpipe {

void AddTagCommand(CLI::App& app);

// Tags every line of `in` (without its '\n' or "\r\n") onto `out`, one JSON object per line.
void TagLines(const Tagger& tagger, std::istream& in, std::ostream& out, const TagOptions& options = {});

}  // namespace chatpipe
