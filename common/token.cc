#include "common/token.h"

#include <sodium.h>

#include <charconv>
#include <vector>

namespace chatpipe {
namespace {

std::string Base64Url(const unsigned char* data, size_t len) {
  const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_encoded_len(len, variant), '\0');
  sodium_bin2base64(out.data(), out.size(), data, len, variant);
  out.resize(out.size() - 1);  // drop the terminating NUL
  return out;
}

bool FromBase64Url(std::string_view in, std::vector<unsigned char>* out) {
  out->resize(in.size());
  size_t len = 0;
  if (sodium_base642bin(out->data(), out->size(), in.data(), in.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
    return false;
  out->resize(len);
  return true;
}

bool NextField(std::string_view* rest, std::string_view* field) {
  auto dot = rest->find('.');
  if (dot == std::string_view::npos) return false;
  *field = rest->substr(0, dot);
  rest->remove_prefix(dot + 1);
  return true;
}

template <typename T>
bool ParseInt(std::string_view s, T* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

TokenSigner::TokenSigner(std::string_view secret) {
  if (sodium_init() < 0) abort();  // libsodium cannot work without its RNG; nothing sensible to do
  crypto_hash_sha256(key_, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
}

std::string TokenSigner::NewSession() {
  if (sodium_init() < 0) abort();
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  char hex[2 * sizeof bytes + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return hex;
}

std::string TokenSigner::Issue(const TokenUser& user, int64_t expires) const {
  std::string payload = "v2." + std::to_string(user.id) + "." + std::to_string(expires) + "." +
                        (user.guest ? "1" : "0") + "." + std::string(user.session.view()) + "." + user.name;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), key_);
  return Base64Url(reinterpret_cast<const unsigned char*>(payload.data()), payload.size()) + "." +
         Base64Url(mac, sizeof mac);
}

Result<TokenUser> TokenSigner::Verify(std::string_view token, int64_t now) const {
  auto dot = token.find('.');
  if (token.empty() || token.size() > 512 || dot == std::string_view::npos)
    return Status::Unauthenticated("malformed token");
  std::vector<unsigned char> payload, mac;
  if (!FromBase64Url(token.substr(0, dot), &payload) || !FromBase64Url(token.substr(dot + 1), &mac) ||
      mac.size() != crypto_auth_hmacsha256_BYTES)
    return Status::Unauthenticated("malformed token");
  if (crypto_auth_hmacsha256_verify(mac.data(), payload.data(), payload.size(), key_) != 0)
    return Status::Unauthenticated("token signature does not match");
  std::string_view rest(reinterpret_cast<const char*>(payload.data()), payload.size());
  std::string_view version, id, expires, guest, session;
  TokenUser user;
  // A v1 token (before sessions) names no session, so it could not be logged out: refused.
  if (!NextField(&rest, &version) || version != "v2" || !NextField(&rest, &id) || !ParseInt(id, &user.id) ||
      !NextField(&rest, &expires) || !ParseInt(expires, &user.expires) || !NextField(&rest, &guest) ||
      !NextField(&rest, &session) || session.empty() || session.size() > SessionId::kMaxSize)
    return Status::Unauthenticated("malformed token");
  if (user.expires < now) return Status::Unauthenticated("token expired");
  user.guest = guest == "1";
  user.session = session;
  user.name = std::string(rest);
  return user;
}

}  // namespace chatpipe
