// Bearer tokens: a signed statement "user U (name N) until time T", checked without any lookup.
//
// Format: base64url("v1.<user id>.<expiry unix s>.<guest 0|1>.<name>") "." base64url(HMAC-SHA256).
// Every ingress instance of a deployment shares the secret (--token-secret / CHATPIPE_TOKEN_SECRET), so
// any of them accepts a token issued by another. A forged, truncated or expired token is refused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace chatpipe {

struct TokenUser {
  int64_t id = 0;
  std::string name;
  bool guest = false;
};

class TokenSigner {
 public:
  // `secret` may be any string; it is hashed to the HMAC key.
  explicit TokenSigner(std::string_view secret);
  std::string Issue(const TokenUser& user, int64_t expires_unix_s) const;
  Result<TokenUser> Verify(std::string_view token, int64_t now_unix_s) const;

 private:
  unsigned char key_[32];
};

}  // namespace chatpipe
