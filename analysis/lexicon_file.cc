#include "analysis/lexicon_file.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

#include "analysis/language.h"

namespace chatpipe::analysis {

LexiconReader::LexiconReader(std::string dir) : dir_(std::move(dir)) { crypto_hash_sha256_init(&sha_); }

Status LexiconReader::ForEachLine(const std::string& name, const std::function<Status(const Fields&)>& fn) {
  const std::string path = dir_ + "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) return LexiconError("cannot read " + path);
  std::ostringstream whole;
  whole << in.rdbuf();
  const std::string text = whole.str();
  // The name, its length and the bytes: no two different sets of files hash alike.
  const std::string head = name + '\0' + std::to_string(text.size()) + '\0';
  crypto_hash_sha256_update(&sha_, reinterpret_cast<const unsigned char*>(head.data()), head.size());
  crypto_hash_sha256_update(&sha_, reinterpret_cast<const unsigned char*>(text.data()), text.size());

  std::istringstream lines(text);
  std::string line;
  Fields fields;
  for (int number = 1; std::getline(lines, line); ++number) {
    fields.clear();
    for (size_t i = 0; i < line.size();) {
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      size_t j = i;
      while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
      if (j > i) fields.emplace_back(line.data() + i, j - i);
      i = j;
    }
    if (fields.empty() || fields[0][0] == '#') continue;
    if (Status e = fn(fields); !e.ok()) return LexiconError(path + ":" + std::to_string(number) + ": " + e.detail());
  }
  return Status::Ok();
}

std::string LexiconReader::Version(std::string_view code_version, size_t bytes) const {
  crypto_hash_sha256_state sha = sha_;
  const std::string code = std::string("code") + '\0' + std::string(code_version);
  crypto_hash_sha256_update(&sha, reinterpret_cast<const unsigned char*>(code.data()), code.size());
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&sha, digest);
  bytes = std::min<size_t>(bytes, sizeof digest);
  char hex[2 * sizeof digest + 1];
  sodium_bin2hex(hex, 2 * bytes + 1, digest, bytes);
  return hex;
}

Status LexiconError(std::string reason) { return Status::Internal("tag_data", std::move(reason)); }

Status ParseLang(std::string_view s, int* lang) {
  for (int l = 0; l < kLangs; ++l) {
    if (s == kLangCodes[l]) {
      *lang = l;
      return Status::Ok();
    }
  }
  return LexiconError("unknown language '" + std::string(s) + "'");
}

Status ParseNumber(std::string_view s, double lo, double hi, double* out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (ec != std::errc() || end != s.data() + s.size() || *out < lo || *out > hi)
    return LexiconError("'" + std::string(s) + "' is not a number in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                        "]");
  return Status::Ok();
}

std::vector<std::string> ExpandForms(std::string_view spec) {
  const size_t bar = spec.find('|');
  if (bar == std::string_view::npos) return {std::string(spec)};
  const std::string_view stem = spec.substr(0, bar);
  std::vector<std::string> out;
  for (size_t i = bar; i != std::string_view::npos;) {
    const size_t next = spec.find('|', i + 1);
    out.push_back(std::string(stem).append(spec.substr(i + 1, next == std::string_view::npos ? next : next - i - 1)));
    i = next;
  }
  return out;
}

}  // namespace chatpipe::analysis
