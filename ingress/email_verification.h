// Address verification on the HTTP API (docs/protocol.md): the link token a sign-up queues with the
// verification e-mail, and GET /api/users/verify?token=..., the link itself. Tokens are signed with the
// deployment's token secret under a purpose of their own (common/email_token.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/token.h"
#include "ingress/http_request.h"

namespace chatpipe {

class Connection;
struct Services;

// How long a verification link works.
constexpr int64_t kEmailLinkTtlSeconds = 24 * 3600;

// The link token for a new user's address: call on a DbPool thread, with the user id once known.
std::function<std::string(int64_t)> EmailLinkTokens(const Services& services, const std::string& email);

// GET /api/users/verify?token=...: 200 {"verified":true,"email":...}; 400 bad_token; 401 forged or expired.
void VerifyEmailRoute(Connection& conn, const http::Request& req);

// POST /api/users/verify/resend, signed in: queues the verification e-mail of `user`'s address again
// (--limit-verify-mails-per-user and -per-address); 202 {"email":...}; 400 no_email (a guest);
// 409 already_verified; 429 rate_limited.
void ResendVerificationRoute(Connection& conn, const TokenUser& user);

}  // namespace chatpipe
