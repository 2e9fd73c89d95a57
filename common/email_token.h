// EmailTokenSigner: the token of an address-verification link, "user U may prove address A until T".
//
// Format: "e1.<user id>.<expiry unix s>.<hex HMAC-SHA256>". The MAC covers the address (lower case) but
// the token does not carry it: the verifier reads the user's current address, so a link for an address
// the user no longer has is refused. The key is derived from the deployment's token secret with a
// purpose of its own, so a session token (common/token.h) is never a verification token nor the reverse.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace chatpipe {

struct EmailTokenClaim {
  int64_t user_id = 0;
  int64_t expires = 0;  // unix seconds
};

class EmailTokenSigner {
 public:
  explicit EmailTokenSigner(std::string_view secret);
  std::string Issue(int64_t user_id, std::string_view email, int64_t expires_unix_s) const;
  // The token's user and expiry, unchecked: kInvalidArgument ("bad_token") when it is not of the format.
  static Result<EmailTokenClaim> Parse(std::string_view token);
  // Ok when `token` was issued for `email` (the user's current address) and is not expired at `now`;
  // otherwise kUnauthenticated (kInvalidArgument when malformed).
  Status Verify(std::string_view token, std::string_view email, int64_t now_unix_s) const;

 private:
  std::string Mac(const EmailTokenClaim& claim, std::string_view email) const;
  unsigned char key_[32];
};

}  // namespace chatpipe
