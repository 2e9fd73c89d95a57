#include "common/email_token.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <iterator>

namespace chatpipe {
namespace {

constexpr std::string_view kPrefix = "e1.";
constexpr size_t kMacHex = crypto_auth_hmacsha256_BYTES * 2;

bool ParseInt(std::string_view s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

EmailTokenSigner::EmailTokenSigner(std::string_view secret) {
  if (sodium_init() < 0) abort();  // libsodium cannot work without its RNG; nothing sensible to do
  std::string material = "chatpipe e-mail verification\n";
  material += secret;
  crypto_hash_sha256(key_, reinterpret_cast<const unsigned char*>(material.data()), material.size());
}

std::string EmailTokenSigner::Mac(const EmailTokenClaim& claim, std::string_view email) const {
  std::string payload = std::to_string(claim.user_id) + "." + std::to_string(claim.expires) + ".";
  std::transform(email.begin(), email.end(), std::back_inserter(payload),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), key_);
  std::string hex(kMacHex + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), mac, sizeof mac);
  hex.pop_back();
  return hex;
}

std::string EmailTokenSigner::Issue(int64_t user_id, std::string_view email, int64_t expires) const {
  EmailTokenClaim claim{user_id, expires};
  return std::string(kPrefix) + std::to_string(user_id) + "." + std::to_string(expires) + "." + Mac(claim, email);
}

Result<EmailTokenClaim> EmailTokenSigner::Parse(std::string_view token) {
  const Status bad = Status::InvalidArgument("bad_token", "not an e-mail verification token");
  if (token.size() > 128 || token.substr(0, kPrefix.size()) != kPrefix) return bad;
  token.remove_prefix(kPrefix.size());
  auto dot1 = token.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.size() - dot2 - 1 != kMacHex) return bad;
  EmailTokenClaim claim;
  if (!ParseInt(token.substr(0, dot1), &claim.user_id) || claim.user_id <= 0 ||
      !ParseInt(token.substr(dot1 + 1, dot2 - dot1 - 1), &claim.expires))
    return bad;
  return claim;
}

Status EmailTokenSigner::Verify(std::string_view token, std::string_view email, int64_t now) const {
  auto claim = Parse(token);
  if (!claim.ok()) return claim.status();
  std::string want = Mac(*claim, email);
  std::string_view got = token.substr(token.size() - kMacHex);
  if (sodium_memcmp(want.data(), got.data(), kMacHex) != 0)
    return Status::Unauthenticated("the link does not match this user's current address");
  if (claim->expires < now) return Status::Unauthenticated("the link has expired");
  return Status::Ok();
}

}  // namespace chatpipe
