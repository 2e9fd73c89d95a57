// Bearer tokens: a signed statement "user U (name N), session S, until time T", checked without any
// lookup.
//
// Format: base64url("v2.<user id>.<expiry unix s>.<guest 0|1>.<session>.<name>") "." base64url(HMAC-SHA256).
// Every ingress instance of a deployment shares the secret (CHATPIPE_TOKEN_SECRET or
// --token-secret-file), so any of them accepts a token issued by another. A forged, truncated or
// expired token is refused here; a logged-out one is refused by ingress, which keeps the ended
// sessions in Redis (ingress/sessions_api.h). A session id names one login: renewing a token keeps it,
// so logging out ends every token the session was renewed into.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace chatpipe {

// A shorter secret is refused at start-up: HMAC-SHA256 is only as strong as its key.
inline constexpr size_t kMinTokenSecretBytes = 32;

// A login's session id: 32 hex digits (TokenSigner::NewSession), the same in every renewal of its
// token. Kept inline, not in a std::string: every open WebSocket holds one, and 32 digits are past
// std::string's inline capacity, a heap block more on each of a million idle connections.
class SessionId {
 public:
  static constexpr size_t kMaxSize = 32;
  SessionId() = default;
  // Implicit, like a std::string's: tokens and tests build a TokenUser from strings. Takes at most
  // kMaxSize characters of `digits` (TokenSigner::Verify refuses a longer one).
  SessionId(std::string_view digits) : size_(static_cast<uint8_t>(std::min(digits.size(), kMaxSize))) {
    digits.copy(digits_.data(), size_);
  }
  SessionId(const std::string& digits) : SessionId(std::string_view(digits)) {}
  SessionId(const char* digits) : SessionId(std::string_view(digits)) {}
  std::string_view view() const { return {digits_.data(), size_}; }
  operator std::string_view() const { return view(); }
  bool empty() const { return size_ == 0; }
  friend bool operator==(const SessionId& a, std::string_view b) { return a.view() == b; }

 private:
  std::array<char, kMaxSize> digits_{};
  uint8_t size_ = 0;
};

struct TokenUser {
  int64_t id = 0;
  std::string name;
  bool guest = false;
  SessionId session;
  int64_t expires = 0;  // unix seconds; set by Verify
};

class TokenSigner {
 public:
  // `secret` may be any string; it is hashed to the HMAC key.
  explicit TokenSigner(std::string_view secret);
  // A fresh random session id, for a new login.
  static std::string NewSession();
  std::string Issue(const TokenUser& user, int64_t expires_unix_s) const;
  Result<TokenUser> Verify(std::string_view token, int64_t now_unix_s) const;

 private:
  unsigned char key_[32];
};

}  // namespace chatpipe
