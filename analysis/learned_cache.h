// LearnedCache: trained models (learned_model.h) kept on disk between loads, so that only the first load of a
// set of word lists and development sets trains (about 1.7 s on the shipped sets; every
// ingress, worker, `chatpipe tag` and test process loads a Tagger).
//
// An entry's key says everything the weights depend on: the SHA-256 of every data file the Tagger read
// and of its code version (LexiconReader::Version), the training settings, and a fingerprint of the
// features the code draws from text (LearnedFeatureFingerprint). Its file ends with a
// BLAKE2b hash of the rest, so a damaged or foreign file is trained over, never trusted; it is written
// under a temporary name and renamed, so concurrent loads each see a whole file or none. Every failure
// (no directory, read-only, full disk) only means training: the cache can never make a load fail. A
// write keeps the newest kLearnedCacheEntries entries and drops the rest, so that editing the lists
// does not fill the disk.
#pragma once

#include <cstddef>
#include <string>

#include "analysis/learned_model.h"

namespace chatpipe::analysis {

inline constexpr size_t kLearnedCacheEntries = 16;  // 1.5 MiB each

// Where the cache lives: $CHATPIPE_TAG_CACHE ("off" disables it), else $CHATPIPE_CACHE/learned, else
// $HOME/.cache/chatpipe/learned; "" when disabled or no home is known.
std::string LearnedCacheDir();

// The file name of the entry for data_digest (LexiconReader::Version with all 32 bytes) and settings.
std::string LearnedCacheKey(const std::string& data_digest, const LearnedSettings& settings);

// Reads dir/key into model; false (model untouched) when there is no whole, matching entry.
bool ReadLearnedCache(const std::string& dir, const std::string& key, LearnedModel* model);

// Writes model as dir/key, creating dir, then drops all but the newest kLearnedCacheEntries entries (and
// temporary files a crashed write left); false when it could not write (the load goes on without it).
bool WriteLearnedCache(const std::string& dir, const std::string& key, const LearnedModel& model);

}  // namespace chatpipe::analysis
