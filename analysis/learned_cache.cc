#include "analysis/learned_cache.h"

#include <sodium.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace chatpipe::analysis {
namespace {

// Bump when ToBytes' layout changes.
constexpr char kMagic[] = "chatpipe learned sentiment 1\n";
constexpr size_t kHashBytes = crypto_generichash_BYTES;

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

}  // namespace

std::string LearnedCacheDir() {
  const std::string set = Env("CHATPIPE_TAG_CACHE");
  if (set == "off") return "";
  if (!set.empty()) return set;
  if (const std::string xdg = Env("XDG_CACHE_HOME"); !xdg.empty()) return xdg + "/chatpipe";
  if (const std::string home = Env("HOME"); !home.empty()) return home + "/.cache/chatpipe";
  return "";
}

std::string LearnedCacheKey(const std::string& data_digest, const LearnedSettings& s) {
  std::ostringstream settings;
  settings << s.bucket_bits << ' ' << s.epochs << ' ' << s.rate << ' ' << s.l2 << ' ' << s.evidence_dropout << ' '
           << s.seed;
  const std::string digest = Hash(data_digest + '\0' + settings.str());
  char hex[2 * 16 + 1];
  sodium_bin2hex(hex, sizeof hex, reinterpret_cast<const unsigned char*>(digest.data()), 16);
  return std::string("learned-") + hex + ".bin";
}

bool ReadLearnedCache(const std::string& dir, const std::string& key, LearnedSentiment* model) {
  if (dir.empty()) return false;
  std::ifstream in(dir + "/" + key, std::ios::binary);
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

bool WriteLearnedCache(const std::string& dir, const std::string& key, const LearnedSentiment& model) {
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
  if (!error) return true;
  std::filesystem::remove(temporary, error);
  return false;
}

}  // namespace chatpipe::analysis
