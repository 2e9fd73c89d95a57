#include "common/password.h"

#include <sodium.h>

namespace chatpipe {
namespace {

// A hash of a random password with the same parameters as real ones, made once.
const std::string& DummyHash() {
  static const std::string hash = [] {
    unsigned char secret[16];
    randombytes_buf(secret, sizeof secret);
    return HashPassword(std::string_view(reinterpret_cast<char*>(secret), sizeof secret)).value_or("");
  }();
  return hash;
}

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return Status::Unavailable("busy", "out of memory hashing the password");
  return std::string(hash);
}

bool VerifyPassword(const std::optional<std::string>& hash, std::string_view password) {
  const std::string& against = hash ? *hash : DummyHash();
  bool match = crypto_pwhash_str_verify(against.c_str(), password.data(), password.size()) == 0;
  return match && hash.has_value();
}

}  // namespace chatpipe
