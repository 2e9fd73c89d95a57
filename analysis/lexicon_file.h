// LexiconReader: reads the tagger's data files (analysis/data) and fingerprints them.
//
// A data file is lines of whitespace-separated fields; blank lines and lines whose first field starts
// with '#' are skipped. A line the caller cannot use fails the load naming "dir/file:line: why". Every
// file read is also fed, name and bytes, to one SHA-256, so that Version() says which lists (and which
// code) made a tag. One reader per load; not shared between threads.
#pragma once

#include <sodium.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace chatpipe::analysis {

using Fields = std::vector<std::string_view>;

class LexiconReader {
 public:
  explicit LexiconReader(std::string dir);

  // Calls fn with the fields of every line of dir/name that is not blank or a comment, in order.
  Status ForEachLine(const std::string& name, const std::function<Status(const Fields&)>& fn);

  // The first 2 * bytes hex digits of the SHA-256 of every file read so far and of code_version: 12 for
  // the version stored with every tag, all 64 for a cache key.
  std::string Version(std::string_view code_version, size_t bytes = 6) const;

 private:
  std::string dir_;
  crypto_hash_sha256_state sha_;
};

// The one error of a lexicon that cannot be loaded.
Status LexiconError(std::string reason);

// A language code ("es") to its Lang.
Status ParseLang(std::string_view s, int* lang);
// A number in [lo, hi], the whole field.
Status ParseNumber(std::string_view s, double lo, double hi, double* out);
// "stem|a|b" is stem+a and stem+b; an empty suffix is the stem itself; no '|' is the word itself.
std::vector<std::string> ExpandForms(std::string_view spec);

}  // namespace chatpipe::analysis
