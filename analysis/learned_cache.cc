#include "analysis/learned_cache.h"

#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

namespace chatpipe::analysis {
namespace {

// Bump when ToBytes' layout changes.
constexpr char kMagic[] = "chatpipe learned model 2\n";
constexpr size_t kHashBytes = crypto_generichash_BYTES;
constexpr uintmax_t kMaxEntryBytes = uintmax_t{1} << 28;  // 2^24 buckets, the most FromBytes takes

std::string Hash(std::string_view bytes) {
  unsigned char digest[kHashBytes];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                     nullptr, 0);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Keeps the newest kLearnedCacheEntries entries of dir, and temporary files young enough to be another
// process's write in progress.
void Prune(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  std::vector<std::pair<fs::file_time_type, fs::path>> entries;
  const auto now = fs::file_time_type::clock::now();
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("learned-", 0) != 0) continue;
    const fs::file_time_type written = it->last_write_time(error);
    if (error) return;
    if (name.find(".tmp.") == std::string::npos) entries.emplace_back(written, it->path());
    else if (now - written > std::chrono::minutes(10)) fs::remove(it->path(), error);
  }
  if (entries.size() <= kLearnedCacheEntries) return;
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t i = kLearnedCacheEntries; i < entries.size(); ++i) fs::remove(entries[i].second, error);
}

}  // namespace

std::string LearnedCacheDir() {
  const std::string set = Env("CHATPIPE_TAG_CACHE");
  if (set == "off") return "";
  if (!set.empty()) return set;
  // ops/ keeps its downloads in the same place (ops/lib.sh).
  if (const std::string shared = Env("CHATPIPE_CACHE"); !shared.empty()) return shared + "/learned";
  if (const std::string home = Env("HOME"); !home.empty()) return home + "/.cache/chatpipe/learned";
  return "";
}

std::string LearnedCacheKey(const std::string& data_digest, const LearnedSettings& s) {
  std::ostringstream settings;
  settings << s.bucket_bits << ' ' << s.profanity_bits << ' ' << s.epochs << ' ' << s.rate << ' ' << s.l2 << ' ' << s.evidence_dropout << ' '
           << s.seed << ' ' << LearnedFeatureFingerprint(s);
  const std::string digest = Hash(data_digest + '\0' + settings.str());
  char hex[2 * 16 + 1];
  sodium_bin2hex(hex, sizeof hex, reinterpret_cast<const unsigned char*>(digest.data()), 16);
  return std::string("learned-") + hex + ".bin";
}

bool ReadLearnedCache(const std::string& dir, const std::string& key, LearnedModel* model) {
  if (dir.empty()) return false;
  const std::string path = dir + "/" + key;
  std::error_code error;
  // An entry is 1.5 MiB with the default settings; whatever else sits there is not read whole.
  if (std::filesystem::file_size(path, error) > kMaxEntryBytes || error) return false;
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream whole;
  whole << in.rdbuf();
  const std::string file = whole.str();
  const std::string_view magic(kMagic, sizeof kMagic - 1);
  if (file.size() < magic.size() + kHashBytes || std::string_view(file).substr(0, magic.size()) != magic) return false;
  const std::string_view body = std::string_view(file).substr(0, file.size() - kHashBytes);
  if (Hash(body) != std::string_view(file).substr(body.size())) return false;
  return model->FromBytes(body.substr(magic.size()));
}

bool WriteLearnedCache(const std::string& dir, const std::string& key, const LearnedModel& model) {
  if (dir.empty()) return false;
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return false;
  std::string file = std::string(kMagic) + model.ToBytes();
  file += Hash(file);
  const std::string path = dir + "/" + key;
  static std::atomic<uint64_t> writes{0};
  const std::string temporary = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(writes++);
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out.write(file.data(), static_cast<std::streamsize>(file.size())) || !out.flush()) {
      std::filesystem::remove(temporary, error);
      return false;
    }
  }
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::filesystem::remove(temporary, error);
    return false;
  }
  Prune(dir);
  return true;
}

}  // namespace chatpipe::analysis
