// Speech: a chat message's text read aloud, as a small Ogg Opus file (issue 17, "Spoken messages").
//
// espeak-ng (Debian's libespeak-ng) turns the text into 16-bit mono PCM at its own sample rate, and
// libopusenc encodes that in memory as Ogg Opus (it resamples to Opus' 48 kHz). The text is always
// plain text: it is never read as SSML or as espeak's [[phoneme]] notation, so "<speak>", "&amp;" and
// "[[a]]" are read (or skipped as punctuation), never obeyed.
//
// espeak-ng keeps its state in globals: this unit initialises it once and serialises every synthesis
// with one mutex, so Synthesize is thread-safe but runs one at a time per process. It blocks and is
// CPU-bound (see bench/speech_bench.cc): call it from a worker thread, never on an event loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace chatpipe {

struct SpeechAudio {
  std::string ogg;          // an Ogg Opus stream (audio/ogg), mono
  int64_t duration_ms = 0;  // of the synthesised PCM
};

struct SpeechLimits {
  size_t max_text_bytes = 4000;
};

// Synthesises `text` with the voice for `lang` ("es", "pt", "en"; anything else reads as en).
// InvalidArgument "nothing_to_say" for empty or blank text, or text that gives no sound; TooLarge
// "too_large" past limits.max_text_bytes; Internal when espeak-ng or the encoder fails.
Result<SpeechAudio> Synthesize(std::string_view text, std::string_view lang, const SpeechLimits& limits);

// The espeak-ng voice used for `lang`: "es", "pt-br" (chat here is mostly Brazilian) or "en".
const char* SpeechVoice(std::string_view lang);

// "espeak-ng 1.51", for logs and the bench's conditions. Initialises espeak-ng when needed.
std::string SpeechEngineVersion();

}  // namespace chatpipe
